import { base64url, fromBase64url, fromUtf8, utf8 } from "../lib/encoding";
import { isUuid } from "../lib/ids";

/**
 * Signed tokens for open pixels, click redirects and one-click unsubscribe links.
 *
 * Format: `base64url(JSON claims) "." base64url(HMAC-SHA256(secret, "herald-track-v1." + payload-part))`.
 * The MAC covers the *encoded* payload text, so any change to it, however the base64 is spelled,
 * fails verification. The full 32-byte MAC is kept.
 *
 * There is deliberately no expiry: a link in an email has to keep working for as long as the
 * recipient keeps the email (unsubscribe links especially; CAN-SPAM and RFC 8058 expect them to
 * work long after the send). Revocation, if ever needed, is done by rotating the secret; the
 * version in the MAC domain string lets a future format coexist with this one.
 *
 * The claims are signed, not encrypted: anyone holding the link can read them (base64 JSON), so
 * they carry only ids, the click target and, for unsubscribe tokens, the recipient's own address.
 */
export type TokenKind = "o" | "c" | "u"; // open, click, unsubscribe

export interface TrackingClaims {
  k: TokenKind;
  /** tenant uuid */
  t: string;
  /** message uuid */
  m: string;
  /** recipient email, required by "u" */
  e?: string;
  /** campaign uuid, optional */
  c?: string;
  /** click target URL (absolute http/https), "c" only and required there */
  u?: string;
  /** contact uuid, optional */
  ct?: string;
}

/** Longest token verifyToken will look at (and signToken will produce). */
export const MAX_TOKEN_LENGTH = 4096;

const DOMAIN = "herald-track-v1.";
const MAC_BYTES = 32;
const MAC_CHARS = 43; // base64url of 32 bytes, unpadded
const MAX_EMAIL_LENGTH = 320;
const KINDS: readonly string[] = ["o", "c", "u"];
const KEYS = new Set(["k", "t", "m", "e", "c", "u", "ct"]);
// Tabs, newlines and other C0/DEL characters have no business in a redirect target (the URL parser
// would silently drop some of them, and they could smuggle into a Location header).
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is this pattern's purpose.
const CONTROL = /[\u0000-\u001f\u007f]/;

// Imported keys per secret; normally exactly one. Bounded so a caller passing many secrets
// (tests, rotation) cannot grow it without limit.
const keys = new Map<string, Promise<CryptoKey>>();
const MAX_CACHED_KEYS = 16;

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    if (keys.size >= MAX_CACHED_KEYS) keys.clear();
    key = crypto.subtle.importKey("raw", utf8(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
    keys.set(secret, key);
    // Never cache a failure.
    key.catch(() => {
      if (keys.get(secret) === key) keys.delete(secret);
    });
  }
  return key;
}

/** True for an absolute http: or https: URL without control characters. */
export function isHttpUrl(value: unknown): value is string {
  if (typeof value !== "string" || value === "" || value.length > MAX_TOKEN_LENGTH || CONTROL.test(value)) return false;
  if (value !== value.trim()) return false;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  return (url.protocol === "http:" || url.protocol === "https:") && url.hostname !== "";
}

/** Why the claims are not acceptable, or undefined when they are. */
function claimsProblem(claims: Record<string, unknown>): string | undefined {
  for (const key of Object.keys(claims)) {
    if (!KEYS.has(key)) return `unknown claim "${key}"`;
  }
  const { k, t, m, e, c, u, ct } = claims;
  if (typeof k !== "string" || !KINDS.includes(k)) return "k must be one of o, c, u";
  if (!isUuid(t)) return "t must be a tenant uuid";
  if (!isUuid(m)) return "m must be a message uuid";
  if (c !== undefined && !isUuid(c)) return "c must be a campaign uuid";
  if (ct !== undefined && !isUuid(ct)) return "ct must be a contact uuid";
  if (e !== undefined && (typeof e !== "string" || e === "" || e.length > MAX_EMAIL_LENGTH || CONTROL.test(e))) {
    return "e must be an email address";
  }
  if (k === "u" && e === undefined) return "unsubscribe tokens need e";
  if (k === "c") {
    if (!isHttpUrl(u)) return "u must be an absolute http(s) URL";
  } else if (u !== undefined) {
    return "u is only allowed on click tokens";
  }
  return undefined;
}

/** A fresh object with the known claims in a fixed order, absent ones left out. */
function normalize(claims: TrackingClaims): TrackingClaims {
  const out: TrackingClaims = { k: claims.k, t: claims.t, m: claims.m };
  if (claims.c !== undefined) out.c = claims.c;
  if (claims.ct !== undefined) out.ct = claims.ct;
  if (claims.e !== undefined) out.e = claims.e;
  if (claims.u !== undefined) out.u = claims.u;
  return out;
}

/**
 * Signs claims into a compact URL-safe token. Throws (TypeError) for claims verifyToken would
 * refuse, e.g. a click target that is not http(s), and (RangeError) when the token would be
 * longer than MAX_TOKEN_LENGTH, so a bad link fails at send time rather than on click.
 */
export async function signToken(secret: string, claims: TrackingClaims): Promise<string> {
  if (typeof secret !== "string" || secret === "") throw new TypeError("tracking secret must be a non-empty string");
  if (typeof claims !== "object" || claims === null) throw new TypeError("claims must be an object");
  const problem = claimsProblem(claims as unknown as Record<string, unknown>);
  if (problem) throw new TypeError(`invalid tracking claims: ${problem}`);
  const payload = base64url(utf8(JSON.stringify(normalize(claims))));
  if (payload.length + 1 + MAC_CHARS > MAX_TOKEN_LENGTH) throw new RangeError("tracking token would be too long");
  const mac = await crypto.subtle.sign("HMAC", await hmacKey(secret), utf8(DOMAIN + payload));
  return `${payload}.${base64url(new Uint8Array(mac))}`;
}

/** undefined for anything tampered, malformed, wrong kind, or over length; never throws */
export async function verifyToken(secret: string, token: string, kind: TokenKind): Promise<TrackingClaims | undefined> {
  try {
    if (typeof secret !== "string" || secret === "" || typeof token !== "string") return undefined;
    if (token.length > MAX_TOKEN_LENGTH || !KINDS.includes(kind)) return undefined;
    const dot = token.indexOf(".");
    if (dot <= 0 || token.length - dot - 1 !== MAC_CHARS) return undefined;
    const payload = token.slice(0, dot);
    const macText = token.slice(dot + 1);
    const mac = fromBase64url(macText);
    // Insist on the canonical spelling so each token has exactly one valid form.
    if (!mac || mac.length !== MAC_BYTES || base64url(mac) !== macText) return undefined;
    const payloadBytes = fromBase64url(payload);
    if (!payloadBytes) return undefined;
    const ok = await crypto.subtle.verify("HMAC", await hmacKey(secret), mac, utf8(DOMAIN + payload));
    if (!ok) return undefined;
    const claims: unknown = JSON.parse(fromUtf8(payloadBytes));
    if (typeof claims !== "object" || claims === null || Array.isArray(claims)) return undefined;
    if (claimsProblem(claims as Record<string, unknown>) !== undefined) return undefined;
    const typed = claims as TrackingClaims;
    if (typed.k !== kind) return undefined;
    return normalize(typed);
  } catch {
    return undefined;
  }
}
