import { utf8 } from "../../lib/encoding";
import { NOT_CONFIGURED, clip, event, fail, fromBase64, isObject, parseJson, str, type Json } from "./common";
import { outsideWindow, toIso, unixSeconds } from "./time";
import { ecdsaDerToRaw } from "./der";
import type { HeraldEventType, InboundEvent, InboundResult, Verifier } from "./types";

const REPLAY_WINDOW_MS = 10 * 60 * 1000;

/** The last imported verification key; a deployment has one SendGrid key, so one entry suffices. */
let cached: { text: string; key: CryptoKey } | undefined;

async function publicKey(text: string): Promise<CryptoKey | undefined> {
  if (cached?.text === text) return cached.key;
  // The dashboard shows bare base64 DER; tolerate it pasted with PEM armour or line breaks.
  const der = fromBase64(text.replace(/-----(BEGIN|END) PUBLIC KEY-----/g, "").replace(/\s+/g, ""));
  if (!der) return undefined;
  try {
    const key = await crypto.subtle.importKey("spki", der, { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
    cached = { text, key };
    return key;
  } catch {
    return undefined;
  }
}

export const verifySendgrid: Verifier = async (req, secrets, opts): Promise<InboundResult> => {
  if (!secrets.sendgridPublicKey) return NOT_CONFIGURED;
  const signatureText = req.headers.get("x-twilio-email-event-webhook-signature");
  const timestampText = req.headers.get("x-twilio-email-event-webhook-timestamp");
  if (!signatureText || !timestampText) return fail(401, "missing signature headers");
  const timestamp = unixSeconds(timestampText);
  if (timestamp === undefined) return fail(401, "bad signature timestamp");
  if (outsideWindow(timestamp * 1000, opts.now ?? Date.now(), REPLAY_WINDOW_MS)) return fail(401, "timestamp is outside the replay window");

  const key = await publicKey(secrets.sendgridPublicKey);
  if (!key) return fail(401, "the configured verification key is not a P-256 public key");
  let valid = false;
  try {
    // SendGrid sends a DER ECDSA-Sig-Value; WebCrypto only verifies the raw r||s form.
    const der = fromBase64(signatureText.trim());
    if (der) {
      const raw = ecdsaDerToRaw(der, 32);
      valid = await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, key, raw, utf8(timestampText + req.body));
    }
  } catch {
    valid = false;
  }
  if (!valid) return fail(401, "signature does not match");

  const body = parseJson(req.body);
  if (!Array.isArray(body)) return fail(400, "body is not a SendGrid event array");
  return { ok: true, events: body.flatMap((e) => (isObject(e) ? sendgridEvent(e, new Date(opts.now ?? Date.now()).toISOString()) : [])) };
};

const TYPES: Record<string, HeraldEventType> = {
  delivered: "delivered",
  bounce: "bounced",
  spamreport: "complained",
  open: "opened",
  click: "clicked",
  unsubscribe: "unsubscribed",
  group_unsubscribe: "unsubscribed",
};

/** processed, deferred, dropped, group_resubscribe and unknown events are not tracked. */
function sendgridEvent(e: Json, receivedAt: string): InboundEvent[] {
  const name = str(e.event);
  const type = name && Object.hasOwn(TYPES, name) ? TYPES[name]! : undefined;
  if (!type) return [];
  const occurredAt = toIso(e.timestamp);
  const providerMessageId = str(e.sg_message_id);
  const email = str(e.email);
  // sg_event_id is always sent; the fallback only keeps a malformed event dedupable.
  const providerEventId = str(e.sg_event_id) ?? `${providerMessageId ?? "?"}:${name}:${email ?? "?"}:${String(e.timestamp)}`;
  // custom_args are flattened into the event's top level by SendGrid.
  const heraldMessageId = str(e.herald_id);
  const bounced = type === "bounced";
  return [
    event({
      providerEventId,
      type,
      heraldMessageId,
      providerMessageId,
      email,
      occurredAt: occurredAt ?? receivedAt,
      // "blocked" is a refusal by the receiving server (often reputation): worth retrying later.
      bounceType: bounced ? (e.type === "blocked" ? "soft" : "hard") : undefined,
      url: type === "clicked" ? str(e.url) : undefined,
      raw: bounced ? { type: str(e.type), status: clip(e.status, 20), reason: clip(e.reason) } : undefined,
    }),
  ];
}
