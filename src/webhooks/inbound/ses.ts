import { X509Certificate, verify, type KeyObject } from "node:crypto";
import { utf8 } from "../../lib/encoding";
import { NOT_CONFIGURED, event, fail, fromBase64, heraldHeader, isObject, parseJson, str, type Json } from "./common";
import { outsideWindow, toIso } from "./time";
import type { InboundEvent, InboundResult, Verifier } from "./types";

/**
 * SES publishes through SNS; the SNS envelope is what is signed. SNS's own endpoints are
 * sns.<region>.amazonaws.com, and sns.<region>.amazonaws.com.cn in the China regions; the region is
 * spelled out (us-east-1, us-gov-west-1, cn-north-1) because a looser label would also match hosts
 * anyone can serve files from, such as the S3 bucket "sns" at sns.s3.amazonaws.com or
 * sns.s3-us-west-2.amazonaws.com.
 */
export const DEFAULT_SNS_HOST = /^sns\.[a-z]{2}(?:-[a-z]+)+-\d{1,2}\.amazonaws\.com(?:\.cn)?$/;
const REPLAY_WINDOW_MS = 60 * 60 * 1000;

// The string to sign, per the SNS docs: these keys in this (alphabetical) order, each "Key\nValue\n".
const NOTIFICATION_KEYS = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"];
const CONFIRMATION_KEYS = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"];

interface SigningCertificate {
  key: KeyObject;
  notBefore: number;
  notAfter: number;
}

/**
 * Parsed signing certificates by URL. SNS rotates certificates rarely, so this saves a download per
 * message. Only parsed certificates are kept, never pending promises: a promise created in one
 * request and awaited from another is not safe in workerd.
 */
const certificates = new Map<string, SigningCertificate>();
const MAX_CERTIFICATES = 32;

function stringToSign(msg: Json, names: string[]): string | undefined {
  let out = "";
  for (const name of names) {
    const value = msg[name];
    // Subject is the only optional key; SNS leaves it out of the string when the message has none.
    if (name === "Subject" && (value === undefined || value === null)) continue;
    if (typeof value !== "string") return undefined;
    out += `${name}\n${value}\n`;
  }
  return out;
}

/** An https URL on an SNS host. Anything else could point the verifier at an attacker's certificate. */
export function snsUrl(value: unknown, host: RegExp, pem: boolean): string | undefined {
  const text = str(value);
  if (!text) return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  if (url.protocol !== "https:" || url.port !== "" || url.username !== "" || url.password !== "") return undefined;
  if (!host.test(url.hostname)) return undefined;
  if (pem && !url.pathname.endsWith(".pem")) return undefined;
  return url.href;
}

async function signingCertificate(url: string, fetchText: (url: string) => Promise<string>): Promise<SigningCertificate> {
  const cached = certificates.get(url);
  if (cached) return cached;
  const cert = new X509Certificate(await fetchText(url));
  // SNS signs with RSA; node:crypto's verify would as readily check an EC signature from an EC key.
  if (cert.publicKey.asymmetricKeyType !== "rsa") throw new Error("not an RSA certificate");
  // workerd has no validFromDate/validToDate; these are OpenSSL's "Mon DD HH:MM:SS YYYY GMT".
  const parsed = { key: cert.publicKey, notBefore: Date.parse(cert.validFrom), notAfter: Date.parse(cert.validTo) };
  if (Number.isNaN(parsed.notBefore) || Number.isNaN(parsed.notAfter)) throw new Error("unreadable validity period");
  if (certificates.size >= MAX_CERTIFICATES) certificates.delete(certificates.keys().next().value!);
  certificates.set(url, parsed);
  return parsed;
}

export const verifySes: Verifier = async (req, secrets, opts): Promise<InboundResult> => {
  const msg = parseJson(req.body);
  if (!isObject(msg)) return fail(400, "body is not an SNS message");
  const type = msg.Type;
  const names =
    type === "Notification"
      ? NOTIFICATION_KEYS
      : type === "SubscriptionConfirmation" || type === "UnsubscribeConfirmation"
        ? CONFIRMATION_KEYS
        : undefined;
  if (!names) return fail(400, "unknown SNS message type");
  const toSign = stringToSign(msg, names);
  const sentAt = Date.parse(str(msg.Timestamp) ?? "");
  if (toSign === undefined || Number.isNaN(sentAt)) return fail(400, "SNS message is missing fields");

  const hash = msg.SignatureVersion === "1" ? "sha1" : msg.SignatureVersion === "2" ? "sha256" : undefined;
  if (!hash) return fail(401, "unsupported SNS signature version");
  const signature = fromBase64(str(msg.Signature) ?? "");
  if (!signature || signature.length === 0) return fail(401, "missing signature");
  // An SNS signature proves only that AWS sent the message, from anyone's topic: without the
  // tenant's own topic ARNs, a stranger could subscribe this URL and publish forged bounces.
  const allowed = secrets.sesTopicArns;
  if (!allowed || allowed.length === 0) return NOT_CONFIGURED;
  if (!allowed.includes(msg.TopicArn as string)) return fail(401, "topic is not allowed");
  const host = opts.snsCertHost ?? DEFAULT_SNS_HOST;
  const certUrl = snsUrl(msg.SigningCertURL, host, true);
  if (!certUrl) return fail(401, "signing certificate URL is not an SNS URL");
  const now = opts.now ?? Date.now();
  if (outsideWindow(sentAt, now, REPLAY_WINDOW_MS)) return fail(401, "message is outside the replay window");

  let cert: SigningCertificate;
  try {
    cert = await signingCertificate(certUrl, opts.fetchText);
  } catch {
    return fail(401, "signing certificate could not be loaded");
  }
  if (now < cert.notBefore || now > cert.notAfter) return fail(401, "signing certificate is not valid now");
  let valid = false;
  try {
    valid = verify(hash, utf8(toSign), cert.key, signature);
  } catch {
    valid = false;
  }
  if (!valid) return fail(401, "signature does not match");

  if (type === "SubscriptionConfirmation") {
    const subscribeUrl = snsUrl(msg.SubscribeURL, host, false);
    if (!subscribeUrl) return fail(400, "SubscribeURL is not an SNS URL");
    try {
      await opts.fetchText(subscribeUrl);
    } catch {
      return fail(400, "subscription could not be confirmed");
    }
    return { ok: true, events: [], confirmed: true };
  }
  if (type === "UnsubscribeConfirmation") return { ok: true, events: [] };
  return { ok: true, events: sesEvents(msg.Message as string, msg.MessageId as string, new Date(sentAt).toISOString()) };
};

function sesHeraldId(mail: Json): string | undefined {
  // SES tags are {name: [values]}; the SES provider sends herald_id as an EmailTag.
  const tags = isObject(mail.tags) ? mail.tags.herald_id : undefined;
  return (Array.isArray(tags) ? str(tags[0]) : undefined) ?? heraldHeader(mail.headers);
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/**
 * An authentic notification whose Message is not an SES event (SES's "Successfully validated" setup
 * message, or an event type herald does not track) yields no events rather than an error, so SNS
 * does not keep retrying it.
 */
function sesEvents(message: string, messageId: string, sentAt: string): InboundEvent[] {
  const ev = parseJson(message);
  if (!isObject(ev)) return [];
  const kind = str(ev.eventType) ?? str(ev.notificationType);
  const mail = isObject(ev.mail) ? ev.mail : {};
  const base = { heraldMessageId: sesHeraldId(mail), providerMessageId: str(mail.messageId) };
  const destination = list(mail.destination);
  // Opens and clicks do not say which recipient acted; only a single-recipient message tells us.
  const sole = destination.length === 1 ? str(destination[0]) : undefined;
  const detail = (name: string): Json => (isObject(ev[name]) ? (ev[name] as Json) : {});
  const at = (d: Json) => toIso(d.timestamp) ?? sentAt;
  const id = (i: number) => `${messageId}:${i}`;

  switch (kind) {
    case "Delivery": {
      const d = detail("delivery");
      return list(d.recipients).map((r, i) =>
        event({ ...base, providerEventId: id(i), type: "delivered", email: str(r), occurredAt: at(d) }),
      );
    }
    case "Bounce": {
      const b = detail("bounce");
      const bounceType = b.bounceType === "Permanent" ? "hard" : "soft";
      const raw = { bounceType: str(b.bounceType), bounceSubType: str(b.bounceSubType) };
      return list(b.bouncedRecipients).map((r, i) =>
        event({
          ...base,
          providerEventId: id(i),
          type: "bounced",
          email: isObject(r) ? str(r.emailAddress) : undefined,
          occurredAt: at(b),
          bounceType,
          raw,
        }),
      );
    }
    case "Complaint": {
      const c = detail("complaint");
      const raw = { complaintFeedbackType: str(c.complaintFeedbackType) };
      return list(c.complainedRecipients).map((r, i) =>
        event({
          ...base,
          providerEventId: id(i),
          type: "complained",
          email: isObject(r) ? str(r.emailAddress) : undefined,
          occurredAt: at(c),
          raw,
        }),
      );
    }
    case "Open":
      return [event({ ...base, providerEventId: id(0), type: "opened", email: sole, occurredAt: at(detail("open")) })];
    case "Click": {
      const c = detail("click");
      return [event({ ...base, providerEventId: id(0), type: "clicked", email: sole, occurredAt: at(c), url: str(c.link) })];
    }
    default:
      return [];
  }
}
