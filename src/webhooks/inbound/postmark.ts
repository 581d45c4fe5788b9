import { fromUtf8, timingSafeEqual } from "../../lib/encoding";
import { NOT_CONFIGURED, clip, event, fail, fromBase64, isObject, parseJson, str, type EventFields, type Json } from "./common";
import { toIso } from "./time";
import type { InboundEvent, InboundResult, Verifier } from "./types";

function basicCredentials(header: string | null): { user: string; pass: string } | undefined {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? "");
  const bytes = m ? fromBase64(m[1]!) : undefined;
  if (!bytes) return undefined;
  let decoded: string;
  try {
    decoded = fromUtf8(bytes);
  } catch {
    return undefined;
  }
  const colon = decoded.indexOf(":");
  return colon < 0 ? undefined : { user: decoded.slice(0, colon), pass: decoded.slice(colon + 1) };
}

/**
 * Postmark only offers HTTP Basic auth on the webhook URL: no body signature and no timestamp, so
 * neither tampering (under TLS) nor replays can be detected here; dedupe on providerEventId.
 */
export const verifyPostmark: Verifier = async (req, secrets, opts): Promise<InboundResult> => {
  if (!secrets.postmarkUsername || !secrets.postmarkPassword) return NOT_CONFIGURED;
  const given = basicCredentials(req.headers.get("authorization"));
  if (!given) return fail(401, "missing credentials");
  // Both compared, always, so the timing does not tell which half was wrong.
  const userOk = timingSafeEqual(given.user, secrets.postmarkUsername);
  const passOk = timingSafeEqual(given.pass, secrets.postmarkPassword);
  if (!(userOk && passOk)) return fail(401, "credentials do not match");

  const body = parseJson(req.body);
  if (!isObject(body)) return fail(400, "body is not a Postmark webhook");
  return { ok: true, events: postmarkEvent(body, new Date(opts.now ?? Date.now()).toISOString()) };
};

/** Bounce types that mean the address itself is unusable. */
const HARD = new Set(["HardBounce", "BadEmailAddress"]);

function postmarkEvent(b: Json, receivedAt: string): InboundEvent[] {
  const recordType = str(b.RecordType);
  const messageId = str(b.MessageID);
  const metadata = isObject(b.Metadata) ? b.Metadata : {};
  const make = (type: InboundEvent["type"], email: unknown, when: unknown, extra: Partial<EventFields> = {}) => {
    const recipient = str(email);
    // Postmark has no event id; these four together identify one event (one webhook per recipient).
    const providerEventId = `${recordType}:${messageId ?? "?"}:${recipient ?? "?"}:${String(when)}`;
    return [
      event({
        providerEventId,
        type,
        heraldMessageId: str(metadata.herald_id),
        providerMessageId: messageId,
        email: recipient,
        occurredAt: toIso(when) ?? receivedAt,
        ...extra,
      }),
    ];
  };
  switch (recordType) {
    case "Delivery":
      return make("delivered", b.Recipient, b.DeliveredAt);
    case "Bounce":
      return make("bounced", b.Email, b.BouncedAt, {
        bounceType: HARD.has(str(b.Type) ?? "") ? "hard" : "soft",
        raw: { type: str(b.Type), description: clip(b.Description) },
      });
    case "SpamComplaint":
      return make("complained", b.Email, b.BouncedAt);
    case "Open":
      return make("opened", b.Recipient, b.ReceivedAt);
    case "Click":
      return make("clicked", b.Recipient, b.ReceivedAt, { url: str(b.OriginalLink) });
    case "SubscriptionChange":
      // SuppressSending false is a resubscribe, which herald does not track as an event.
      return b.SuppressSending === true
        ? make("unsubscribed", b.Recipient, b.ChangedAt, { raw: { reason: str(b.SuppressionReason) } })
        : [];
    default:
      return [];
  }
}
