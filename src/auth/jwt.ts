import { base64url, decodeJwt, decodeProtectedHeader, errors, jwtVerify, SignJWT, type JWTPayload, type JWTVerifyGetKey } from "jose";
import type { JwtAlg } from "../config";
import { utf8 } from "../lib/encoding";

export type JwtClaims = JWTPayload;

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
  /** An HS256 secret, or a resolver for the token's key (a JWKS). */
  key: Uint8Array | JWTVerifyGetKey;
  /** Required, like audience: a verifier that skipped either would take tokens minted for someone else. */
  issuer: string;
  audience: string;
}

const MAX_TOKEN_LENGTH = 8192;
const CLOCK_SKEW_SECONDS = 30;
/**
 * How far in the future iat may be. A token "issued" later than that was minted with a wrong clock
 * or to outlive a key rotation; either way it is not one to trust. jose checks iat against the
 * future only together with a maximum age (which would make iat required), so this check is ours.
 */
export const MAX_IAT_AHEAD_SECONDS = 60;

/**
 * The claims of a token whose signature has NOT been checked: only for choosing a verifier. The
 * whole token is checked for shape here, so garbage is "malformed" whichever verifier would apply.
 */
export function unverifiedClaims(token: string): JwtClaims {
  return decode(token).claims;
}

function decode(token: string): { alg: unknown; crit: unknown; claims: JwtClaims } {
  if (token.length > MAX_TOKEN_LENGTH) throw new JwtError("token too long");
  try {
    const { alg, crit } = decodeProtectedHeader(token);
    const claims = decodeJwt(token);
    base64url.decode(token.split(".")[2]!);
    if (typeof alg === "string") return { alg, crit, claims };
  } catch {
    // Every decoding failure is the caller's and says the same.
  }
  throw new JwtError("malformed token");
}

export const hmacSecret = (secret: string): Uint8Array => utf8(secret);

export async function verifyJwt(token: string, opts: VerifyOptions): Promise<JwtClaims> {
  const { alg, crit } = decode(token);
  // jose enforces `algorithms` too; checked here first for herald's own wording.
  if (alg !== opts.alg) throw new JwtError(`algorithm ${JSON.stringify(alg).slice(0, 20)} is not accepted`);
  // jose would accept crit: ["b64"]; herald accepts no extension at all.
  if (crit !== undefined) throw new JwtError("critical header parameters are not supported");
  let claims: JwtClaims;
  try {
    ({ payload: claims } = await jwtVerify(token, opts.key, {
      algorithms: [opts.alg],
      issuer: opts.issuer,
      audience: opts.audience,
      requiredClaims: ["exp"],
      clockTolerance: CLOCK_SKEW_SECONDS,
    }));
  } catch (err) {
    throw refusal(err);
  }
  // jose has checked that iat, when present, is a number.
  if (claims.iat !== undefined && claims.iat > Math.floor(Date.now() / 1000) + MAX_IAT_AHEAD_SECONDS) {
    throw new JwtError("token issued in the future (iat)");
  }
  return claims;
}

/** jose's messages name claims and internals; callers get herald's own, stable wording. */
function refusal(err: unknown): unknown {
  if (err instanceof errors.JWTExpired) return new JwtError("token expired");
  if (err instanceof errors.JWTClaimValidationFailed) {
    switch (err.claim) {
      case "exp":
        return new JwtError("token has no exp");
      case "nbf":
        return new JwtError("token not yet valid");
      case "iat":
        return new JwtError("token iat is not a number");
      case "iss":
        return new JwtError("unexpected issuer");
      case "aud":
        return new JwtError("unexpected audience");
    }
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return new JwtError("invalid signature");
  if (err instanceof errors.JOSEError) return new JwtError("malformed token");
  // jose's key checks (a key of the wrong type, an RSA key under 2048 bits) throw TypeErrors.
  if (err instanceof TypeError) return new JwtError("signing key is unusable");
  return err;
}

/** Signs one of herald's own session tokens. */
export function signHs256(claims: JwtClaims, secret: string): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: "HS256", typ: "JWT" }).sign(hmacSecret(secret));
}
