import { fromBase64url } from "../../lib/encoding";
import { clipCodePoints, wellFormed } from "../../lib/text";
import type { HeraldEventType, InboundEvent, InboundResult } from "./types";

export const NOT_CONFIGURED: InboundResult = { ok: false, status: 401, reason: "webhook verification is not configured for this provider" };

export function fail(status: 400 | 401, reason: string): InboundResult {
  return { ok: false, status, reason };
}

export type Json = Record<string, unknown>;

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A non-empty string, or undefined: payload fields are untrusted and may be any JSON type. */
export function str(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** Providers sign with standard base64; encoding.ts only speaks base64url, so translate the alphabet. */
export function fromBase64(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return undefined;
  return fromBase64url(text.replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_"));
}

/** The header herald may set on outgoing mail to find its message again (SES, Resend). */
const HERALD_HEADER = "x-herald-message";

/** Reads herald's id from headers given as [{name, value}] (SES, Resend) or as a {name: value} map. */
export function heraldHeader(headers: unknown): string | undefined {
  if (Array.isArray(headers)) {
    for (const h of headers) if (isObject(h) && str(h.name)?.toLowerCase() === HERALD_HEADER) return str(h.value);
    return undefined;
  }
  if (isObject(headers)) {
    for (const [name, value] of Object.entries(headers)) if (name.toLowerCase() === HERALD_HEADER) return str(value);
  }
  return undefined;
}

/** A payload string cut to `max` code points (never half a surrogate pair), lone surrogates replaced. */
export function clip(value: unknown, max = 200): string | undefined {
  const text = str(value);
  return text === undefined ? undefined : clipCodePoints(text, max);
}

/** Longest string kept from a payload in an event's own fields (ids, addresses, URLs; checked again downstream). */
const MAX_FIELD = 4096;
/** Longest string kept in an event's raw details (bounce types, reasons, addresses). */
const MAX_RAW = 320;

/** Raw details are a few strings, numbers or lists of strings (never the whole payload). */
function rawValue(value: unknown): unknown {
  if (typeof value === "string") return clipCodePoints(value, MAX_RAW);
  return Array.isArray(value) ? value.map(rawValue) : value;
}

export interface EventFields {
  providerEventId: string;
  type: HeraldEventType;
  occurredAt: string;
  heraldMessageId?: string | undefined;
  providerMessageId?: string | undefined;
  email?: string | undefined;
  bounceType?: "hard" | "soft" | undefined;
  url?: string | undefined;
  raw?: Record<string, unknown> | undefined;
}

/**
 * Builds an event without undefined-valued keys, so stored and compared events stay tidy. Every
 * verifier's events pass through here, so this is where third-party text is made safe to store:
 * lone UTF-16 surrogates become U+FFFD and strings are clipped by code points.
 */
export function event(fields: EventFields): InboundEvent {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    if (k === "raw") {
      const raw = Object.fromEntries(
        Object.entries(v as Json)
          .filter(([, x]) => x !== undefined)
          .map(([key, x]) => [clipCodePoints(key, MAX_RAW), rawValue(x)]),
      );
      if (Object.keys(raw).length > 0) out.raw = raw;
    } else out[k] = typeof v === "string" ? (k === "email" ? wellFormed(v) : clipCodePoints(v, MAX_FIELD)) : v;
  }
  return out as unknown as InboundEvent;
}

export function hmacKey(key: Uint8Array<ArrayBuffer>, usage: "sign" | "verify"): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, [usage]);
}
