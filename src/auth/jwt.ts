import type { JwtAlg } from "../config";
import { base64url, fromBase64url, fromUtf8, utf8 } from "../lib/encoding";

export interface JwtHeader {
  alg: string;
  typ?: string;
  kid?: string;
  crit?: unknown;
}

export interface JwtClaims {
  iss?: string;
  sub?: string;
  aud?: string | string[];
  exp?: number;
  nbf?: number;
  iat?: number;
  jti?: string;
  [claim: string]: unknown;
}

/** Why a token was refused. The message is safe to show the caller. */
export class JwtError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "JwtError";
  }
}

export interface VerifyOptions {
  /** The one algorithm accepted; a token naming any other (or "none") is refused before any crypto. */
  alg: JwtAlg;
  /** Resolves the verification key for the token's header. */
  key: (header: JwtHeader) => Promise<CryptoKey>;
  /** Required, like audience: a verifier that skipped either would take tokens minted for someone else. */
  issuer: string;
  audience: string;
  /** Allowed clock difference, in seconds, for exp and nbf. */
  clockSkew?: number;
  now?: number;
}

const MAX_TOKEN_LENGTH = 8192;
/**
 * How far in the future iat may be. A token "issued" later than that was minted with a wrong clock
 * or to outlive a key rotation; either way it is not one to trust.
 */
export const MAX_IAT_AHEAD_SECONDS = 60;

export function decodeJwt(token: string): { header: JwtHeader; claims: JwtClaims; signingInput: string; signature: Uint8Array<ArrayBuffer> } {
  if (token.length > MAX_TOKEN_LENGTH) throw new JwtError("token too long");
  const parts = token.split(".");
  if (parts.length !== 3) throw new JwtError("malformed token");
  const [h, p, s] = parts as [string, string, string];
  const header = parseJson(h);
  const claims = parseJson(p);
  const signature = fromBase64url(s);
  if (!header || !claims || !signature || typeof header.alg !== "string") throw new JwtError("malformed token");
  return { header: header as unknown as JwtHeader, claims: claims as JwtClaims, signingInput: `${h}.${p}`, signature };
}

function parseJson(segment: string): Record<string, unknown> | undefined {
  const bytes = fromBase64url(segment);
  if (!bytes) return undefined;
  try {
    const value: unknown = JSON.parse(fromUtf8(bytes));
    return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export async function verifyJwt(token: string, opts: VerifyOptions): Promise<JwtClaims> {
  const { header, claims, signingInput, signature } = decodeJwt(token);
  if (header.alg !== opts.alg) throw new JwtError(`algorithm ${JSON.stringify(header.alg).slice(0, 20)} is not accepted`);
  if (header.crit !== undefined) throw new JwtError("critical header parameters are not supported");

  const key = await opts.key(header);
  const ok = await crypto.subtle.verify(verifyAlgorithm(opts.alg), key, signature, utf8(signingInput));
  if (!ok) throw new JwtError("invalid signature");

  const now = opts.now ?? Math.floor(Date.now() / 1000);
  const skew = opts.clockSkew ?? 30;
  if (typeof claims.exp !== "number") throw new JwtError("token has no exp");
  if (now - skew >= claims.exp) throw new JwtError("token expired");
  if (claims.nbf !== undefined && (typeof claims.nbf !== "number" || now + skew < claims.nbf)) {
    throw new JwtError("token not yet valid");
  }
  if (claims.iat !== undefined) {
    if (typeof claims.iat !== "number") throw new JwtError("token iat is not a number");
    if (claims.iat > now + MAX_IAT_AHEAD_SECONDS) throw new JwtError("token issued in the future (iat)");
  }
  if (claims.iss !== opts.issuer) throw new JwtError("unexpected issuer");
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!aud.includes(opts.audience)) throw new JwtError("unexpected audience");
  return claims;
}

function verifyAlgorithm(alg: JwtAlg): SubtleCryptoSignAlgorithm {
  switch (alg) {
    case "HS256":
      return { name: "HMAC" };
    case "RS256":
      return { name: "RSASSA-PKCS1-v1_5" };
    case "ES256":
      return { name: "ECDSA", hash: "SHA-256" };
  }
}

const hmacKeys = new Map<string, Promise<CryptoKey>>();

export function hmacKey(secret: string): Promise<CryptoKey> {
  let key = hmacKeys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", utf8(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
    hmacKeys.set(secret, key);
  }
  return key;
}

export async function signHs256(claims: JwtClaims, secret: string): Promise<string> {
  const header = base64url(utf8(JSON.stringify({ alg: "HS256", typ: "JWT" })));
  const payload = base64url(utf8(JSON.stringify(claims)));
  const sig = await crypto.subtle.sign("HMAC", await hmacKey(secret), utf8(`${header}.${payload}`));
  return `${header}.${payload}.${base64url(new Uint8Array(sig))}`;
}
