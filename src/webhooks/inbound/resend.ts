import { utf8 } from "../../lib/encoding";
import { NOT_CONFIGURED, event, fail, fromBase64, heraldHeader, hmacKey, isObject, parseJson, str, type Json } from "./common";
import { outsideWindow, toIso, unixSeconds } from "./time";
import type { HeraldEventType, InboundEvent, InboundResult, Verifier } from "./types";

/** Svix's own tolerance, applied both ways (a future timestamp is as suspect as an old one). */
const TOLERANCE_MS = 5 * 60 * 1000;

/** Resend delivers through Svix: HMAC-SHA256 of `${id}.${timestamp}.${body}` under the whsec_ key. */
export const verifyResend: Verifier = async (req, secrets, opts): Promise<InboundResult> => {
  const secret = secrets.resendWebhookSecret;
  if (!secret) return NOT_CONFIGURED;
  const keyBytes = secret.startsWith("whsec_") ? fromBase64(secret.slice("whsec_".length)) : undefined;
  if (!keyBytes || keyBytes.length === 0) return fail(401, "the configured webhook secret is malformed");
  // Svix's "unbranded" header names are the same scheme; accept either.
  const h = (name: string) => req.headers.get(`svix-${name}`) ?? req.headers.get(`webhook-${name}`);
  const id = h("id");
  const timestampText = h("timestamp");
  const signatures = h("signature");
  if (!id || !timestampText || !signatures) return fail(401, "missing signature headers");
  const timestamp = unixSeconds(timestampText);
  if (timestamp === undefined) return fail(401, "bad signature timestamp");
  if (outsideWindow(timestamp * 1000, opts.now ?? Date.now(), TOLERANCE_MS)) return fail(401, "timestamp is outside the tolerance window");

  const key = await hmacKey(keyBytes, "verify");
  const signed = utf8(`${id}.${timestampText}.${req.body}`);
  let valid = false;
  // The header lists several "v1,<base64>" during secret rotation; any one matching is enough.
  // subtle.verify compares the MAC in constant time, so no hand-rolled comparison is needed.
  for (const part of signatures.split(" ")) {
    const [version, sig] = part.split(",", 2);
    const bytes = version === "v1" && sig ? fromBase64(sig) : undefined;
    if (bytes && (await crypto.subtle.verify("HMAC", key, bytes, signed))) {
      valid = true;
      break;
    }
  }
  if (!valid) return fail(401, "signature does not match");

  const body = parseJson(req.body);
  if (!isObject(body) || !str(body.type) || !isObject(body.data)) return fail(400, "body is not a Resend webhook");
  return { ok: true, events: resendEvent(id, body.type as string, body.created_at, body.data, new Date(timestamp * 1000).toISOString()) };
};

const TYPES: Record<string, HeraldEventType> = {
  "email.delivered": "delivered",
  "email.bounced": "bounced",
  "email.complained": "complained",
  "email.opened": "opened",
  "email.clicked": "clicked",
};

/** Tags arrive as {name: value} or as [{name, value}]. */
function heraldTag(tags: unknown): string | undefined {
  if (Array.isArray(tags)) {
    for (const t of tags) if (isObject(t) && t.name === "herald_id") return str(t.value);
    return undefined;
  }
  return isObject(tags) ? str(tags.herald_id) : undefined;
}

function resendEvent(svixId: string, name: string, createdAt: unknown, data: Json, signedAt: string): InboundEvent[] {
  const type = Object.hasOwn(TYPES, name) ? TYPES[name]! : undefined;
  if (!type) return [];
  const to = Array.isArray(data.to) ? data.to.filter((x): x is string => typeof x === "string") : [];
  const bounce = isObject(data.bounce) ? data.bounce : {};
  const click = isObject(data.click) ? data.click : {};
  const bounced = type === "bounced";
  return [
    event({
      providerEventId: svixId,
      type,
      heraldMessageId: heraldTag(data.tags) ?? heraldHeader(data.headers),
      providerMessageId: str(data.email_id),
      // One webhook per email, not per recipient: only a single recipient can be named with certainty.
      email: to.length === 1 ? to[0] : undefined,
      occurredAt: toIso(createdAt) ?? signedAt,
      bounceType: bounced ? (bounce.type === "Permanent" ? "hard" : "soft") : undefined,
      url: type === "clicked" ? str(click.link) : undefined,
      raw: {
        ...(bounced ? { bounceType: str(bounce.type), subType: str(bounce.subType) } : {}),
        ...(to.length > 1 ? { to: to.slice(0, 50) } : {}),
      },
    }),
  ];
}
