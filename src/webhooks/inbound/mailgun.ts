import { hex, timingSafeEqual, utf8 } from "../../lib/encoding";
import { NOT_CONFIGURED, clip, event, fail, hmacKey, isObject, parseJson, str, type Json } from "./common";
import { outsideWindow, toIso, unixSeconds } from "./time";
import type { HeraldEventType, InboundEvent, InboundResult, Verifier } from "./types";

const REPLAY_WINDOW_MS = 10 * 60 * 1000;
/** Kept past the window's end, for clocks that disagree by a little. */
const REPLAY_SLACK_SECONDS = 60;

/** Mailgun may send the timestamp as a string or (in some payloads) a number; the HMAC covers its text. */
function text(value: unknown): string | undefined {
  return typeof value === "number" && Number.isInteger(value) ? String(value) : str(value);
}

/**
 * Mailgun signs only timestamp+token, not the event data: a valid signature proves the request came
 * from Mailgun, not that event-data is untouched. Callers should still dedupe on providerEventId, and
 * must refuse a token seen before (the result's `replay`): otherwise a captured request could be sent
 * again, with other event-data, for as long as its timestamp is inside the window.
 */
export const verifyMailgun: Verifier = async (req, secrets, opts): Promise<InboundResult> => {
  if (!secrets.mailgunSigningKey) return NOT_CONFIGURED;
  const body = parseJson(req.body);
  if (!isObject(body)) return fail(400, "body is not a Mailgun webhook");
  const sig = isObject(body.signature) ? body.signature : {};
  const timestampText = text(sig.timestamp);
  const token = str(sig.token);
  const signature = str(sig.signature);
  if (!timestampText || !token || !signature) return fail(401, "missing signature");
  const timestamp = unixSeconds(timestampText);
  if (timestamp === undefined) return fail(401, "bad signature timestamp");
  if (outsideWindow(timestamp * 1000, opts.now ?? Date.now(), REPLAY_WINDOW_MS)) return fail(401, "timestamp is outside the replay window");

  const key = await hmacKey(utf8(secrets.mailgunSigningKey), "sign");
  const expected = hex(await crypto.subtle.sign("HMAC", key, utf8(timestampText + token)));
  if (!timingSafeEqual(expected, signature.toLowerCase())) return fail(401, "signature does not match");

  const data = body["event-data"];
  if (!isObject(data)) return fail(400, "missing event-data");
  const now = opts.now ?? Date.now();
  const ttlSeconds = Math.ceil((timestamp * 1000 + REPLAY_WINDOW_MS - now) / 1000) + REPLAY_SLACK_SECONDS;
  return { ok: true, events: mailgunEvent(data, token, new Date(now).toISOString()), replay: { token, ttlSeconds } };
};

const TYPES: Record<string, HeraldEventType> = {
  delivered: "delivered",
  failed: "bounced",
  complained: "complained",
  opened: "opened",
  clicked: "clicked",
  unsubscribed: "unsubscribed",
};

/** accepted, rejected, stored and unknown events are not tracked. */
function mailgunEvent(data: Json, token: string, receivedAt: string): InboundEvent[] {
  const name = str(data.event);
  const type = name && Object.hasOwn(TYPES, name) ? TYPES[name]! : undefined;
  if (!type) return [];
  const message = isObject(data.message) ? data.message : {};
  const headers = isObject(message.headers) ? message.headers : {};
  const vars = isObject(data["user-variables"]) ? data["user-variables"] : {};
  const failed = type === "bounced";
  return [
    event({
      // event-data.id is always present; the token is unique per webhook request as a last resort.
      providerEventId: str(data.id) ?? token,
      type,
      heraldMessageId: str(vars.herald_id),
      providerMessageId: str(headers["message-id"]),
      email: str(data.recipient),
      occurredAt: toIso(data.timestamp) ?? receivedAt,
      bounceType: failed ? (data.severity === "permanent" ? "hard" : "soft") : undefined,
      url: type === "clicked" ? str(data.url) : undefined,
      raw: failed ? { severity: str(data.severity), reason: clip(data.reason, 50) } : undefined,
    }),
  ];
}
