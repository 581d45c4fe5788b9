import { config, type Settings } from "../../config";
import { decryptJson, encryptJson } from "../../lib/crypto";
import { hex, timingSafeEqual, utf8 } from "../../lib/encoding";

/**
 * Outbound webhook signatures, herald's own scheme (an endpoint's signature_scheme "herald", the
 * default; "standard" is in standard.ts), and the signing secrets both schemes share. Every delivery
 * to a "herald" endpoint carries three headers:
 *
 *   Herald-Webhook-Id:        the delivery's id (the same on every attempt; dedupe on it)
 *   Herald-Webhook-Timestamp: unix seconds when this attempt was signed
 *   Herald-Webhook-Signature: v1=<hex HMAC-SHA256(secret bytes, `${timestamp}.${body}`)>
 *
 * The secret is "whsec_" + base64 of 32 random bytes; the HMAC key is those 32 bytes. A receiver
 * recomputes the HMAC over the raw body it received and refuses a timestamp more than five minutes
 * away from its own clock (the replay window). verifyWebhook is that check, for receivers and tests.
 */

export const WEBHOOK_ID_HEADER = "Herald-Webhook-Id";
export const WEBHOOK_TIMESTAMP_HEADER = "Herald-Webhook-Timestamp";
export const WEBHOOK_SIGNATURE_HEADER = "Herald-Webhook-Signature";

export const SECRET_PREFIX = "whsec_";
export const SIGNATURE_VERSION = "v1";
/** The replay window: a signed request is accepted for this long either side of its timestamp. */
export const REPLAY_TOLERANCE_SECONDS = 300;

const SECRET_BYTES = 32;

/** A new signing secret: "whsec_" + base64 of 32 random bytes. */
export function newWebhookSecret(): string {
  return SECRET_PREFIX + toBase64(crypto.getRandomValues(new Uint8Array(SECRET_BYTES)));
}

/** The HMAC key of a secret: the bytes after "whsec_" (a bare base64 secret is accepted too). */
export function secretKeyBytes(secret: string): Uint8Array<ArrayBuffer> {
  const text = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  const bytes = fromBase64(text);
  if (!bytes || bytes.length === 0) throw new TypeError("not a webhook signing secret");
  return bytes;
}

/** The HMAC-SHA256 signing key of a secret; both schemes key their HMAC this way. */
export function hmacKey(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", secretKeyBytes(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
}

/** The Herald-Webhook-Signature value for a body sent at `timestamp` (unix seconds): "v1=<hex>". */
export async function signWebhook(secret: string, timestamp: number, body: string): Promise<string> {
  const mac = await crypto.subtle.sign("HMAC", await hmacKey(secret), utf8(`${timestamp}.${body}`));
  return `${SIGNATURE_VERSION}=${hex(mac)}`;
}

/** The three headers of one delivery attempt. */
export async function webhookHeaders(secret: string, deliveryId: string, timestamp: number, body: string): Promise<Record<string, string>> {
  return {
    [WEBHOOK_ID_HEADER]: deliveryId,
    [WEBHOOK_TIMESTAMP_HEADER]: String(timestamp),
    [WEBHOOK_SIGNATURE_HEADER]: await signWebhook(secret, timestamp, body),
  };
}

export type WebhookVerification =
  | { ok: true; id: string | null; timestamp: number }
  | { ok: false; reason: "missing_headers" | "bad_timestamp" | "timestamp_outside_tolerance" | "bad_signature" };

export interface VerifyOptions {
  /** The receiver's clock; defaults to now. */
  now?: Date;
  /** The replay window in seconds, either side; 300 unless told. */
  toleranceSeconds?: number;
}

type HeaderSource = Headers | Record<string, string | undefined>;

function header(headers: HeaderSource, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  const wanted = name.toLowerCase();
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === wanted) return v;
  return undefined;
}

/**
 * The receiver's side (the reference implementation): checks the timestamp is within the replay
 * window, then compares the HMAC of `${timestamp}.${body}` with every v1= signature in the header
 * (space-separated, so a sender may list several) in constant time. `body` must be the raw bytes as
 * received, before any JSON parsing.
 */
export async function verifyWebhook(
  secret: string,
  headers: HeaderSource,
  body: string,
  { now = new Date(), toleranceSeconds = REPLAY_TOLERANCE_SECONDS }: VerifyOptions = {},
): Promise<WebhookVerification> {
  const timestampText = header(headers, WEBHOOK_TIMESTAMP_HEADER);
  const signatures = header(headers, WEBHOOK_SIGNATURE_HEADER);
  if (!timestampText || !signatures) return { ok: false, reason: "missing_headers" };
  if (!/^\d{1,12}$/.test(timestampText.trim())) return { ok: false, reason: "bad_timestamp" };
  const timestamp = Number(timestampText.trim());
  if (Math.abs(Math.floor(now.getTime() / 1000) - timestamp) > toleranceSeconds)
    return { ok: false, reason: "timestamp_outside_tolerance" };
  const expected = await signWebhook(secret, timestamp, body);
  let match = false;
  for (const candidate of signatures.trim().split(/\s+/)) {
    // Compare every candidate, so the time taken does not say which one matched.
    if (timingSafeEqual(candidate, expected)) match = true;
  }
  if (!match) return { ok: false, reason: "bad_signature" };
  return { ok: true, id: header(headers, WEBHOOK_ID_HEADER) ?? null, timestamp };
}

export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return undefined;
  try {
    const binary = atob(text);
    const out = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
    return out;
  } catch {
    return undefined;
  }
}

/** Stored secrets are AES-GCM sealed under ENCRYPTION_KEY and bound to their endpoint's id. */
export function secretAad(endpointId: string): string {
  return `herald:webhook:${endpointId}`;
}

export function sealWebhookSecret(endpointId: string, secret: string, env: Settings): Promise<string> {
  return encryptJson(secret, config(env).encryptionKey, secretAad(endpointId));
}

/** Throws DecryptionError when the blob does not open under this key and endpoint. */
export function openWebhookSecret(endpointId: string, sealed: string, env: Settings): Promise<string> {
  return decryptJson<string>(sealed, config(env).encryptionKey, secretAad(endpointId));
}
