export type JwtAlg = "HS256" | "RS256" | "ES256";
const JWT_ALGS: readonly JwtAlg[] = ["HS256", "RS256", "ES256"];

/**
 * How an identity provider's (external) tokens are verified, or why they are not: "disabled" is
 * the caller's problem (401), "misconfigured" the operator's (503 with a log line naming the setting).
 */
export type IdpConfig =
  | { kind: "disabled"; reason: string }
  | { kind: "misconfigured"; setting: string }
  | { kind: "hs256"; secret: string; issuer: string; audience: string }
  | { kind: "jwks"; alg: Exclude<JwtAlg, "HS256">; jwksUrl: string; issuer: string; audience: string };

export interface AuthConfig {
  /** The algorithm accepted for identity-provider JWTs. Anything else is refused. */
  jwtAlg: JwtAlg;
  /** Signs and verifies herald's own session tokens, and nothing else. */
  jwtSecret?: string;
  idp: IdpConfig;
}

const blank = (v: string | undefined) => (v && v.trim() !== "" ? v.trim() : undefined);

/**
 * Reads auth settings from the environment. A misconfiguration is the operator's fault, not the
 * caller's: it surfaces as 503 with a generic detail and a log line naming the setting. A setting
 * that would let someone mint herald's own tokens throws at once (every JWT is refused); one that
 * only breaks the identity provider is reported when such a token arrives, so session tokens and
 * API keys keep working.
 */
export function authConfig(env: Env): AuthConfig {
  const alg = (blank(env.JWT_ALG) ?? "HS256").toUpperCase() as JwtAlg;
  if (!JWT_ALGS.includes(alg)) throw misconfigured(`JWT_ALG must be one of ${JWT_ALGS.join(", ")}`);
  const jwtSecret = blank(env.JWT_SECRET);
  if (jwtSecret && jwtSecret.length < 32) throw misconfigured("JWT_SECRET must be at least 32 characters");
  const idpSecret = blank(env.IDP_JWT_SECRET);
  // With one secret for both, whoever holds the provider's secret could mint herald session tokens.
  if (idpSecret && idpSecret === jwtSecret) throw misconfigured("IDP_JWT_SECRET must differ from JWT_SECRET");

  const idp = ((): IdpConfig => {
    const jwksUrl = blank(env.JWKS_URL);
    if (alg === "HS256" && !idpSecret) return { kind: "disabled", reason: "identity-provider tokens are not enabled" };
    if (alg === "HS256" && idpSecret!.length < 32) return { kind: "misconfigured", setting: "IDP_JWT_SECRET must be at least 32 characters" };
    if (alg !== "HS256" && !jwksUrl) return { kind: "misconfigured", setting: `JWT_ALG=${alg} needs JWKS_URL` };
    // Without both, a token from any issuer or meant for any service that shares the key would pass.
    const issuer = blank(env.JWT_ISSUER);
    const audience = blank(env.JWT_AUDIENCE);
    if (!issuer || !audience) return { kind: "misconfigured", setting: "identity-provider tokens need JWT_ISSUER and JWT_AUDIENCE" };
    if (issuer === "herald") return { kind: "misconfigured", setting: 'JWT_ISSUER may not be "herald" (the issuer of herald\'s own tokens)' };
    return alg === "HS256"
      ? { kind: "hs256", secret: idpSecret!, issuer, audience }
      : { kind: "jwks", alg, jwksUrl: jwksUrl!, issuer, audience };
  })();
  return { jwtAlg: alg, jwtSecret, idp };
}

export class ConfigError extends Error {
  constructor(readonly setting: string) {
    super(setting);
    this.name = "ConfigError";
  }
}

function misconfigured(what: string): ConfigError {
  return new ConfigError(what);
}

/** The share of each provider's rate kept for transactional mail (TRANSACTIONAL_SHARE, 0–0.9, default 0.2). */
export function transactionalShare(env: Pick<Env, "TRANSACTIONAL_SHARE">): number {
  const raw = Number.parseFloat(blank(env.TRANSACTIONAL_SHARE) ?? "");
  if (!Number.isFinite(raw)) return 0.2;
  return Math.min(0.9, Math.max(0, raw));
}

/** A whole number setting within [min, max], or its default when unset or not a number. */
function wholeSetting(raw: string | undefined, fallback: number, min: number, max: number): number {
  const n = Number.parseInt(blank(raw) ?? "", 10);
  if (!Number.isFinite(n)) return fallback;
  return Math.min(max, Math.max(min, n));
}

/** How old an unsettled claim must be before the cron settles it (STALE_CLAIM_SECONDS, default 900). */
export function staleClaimSeconds(env: Pick<Env, "STALE_CLAIM_SECONDS">): number {
  return wholeSetting(env.STALE_CLAIM_SECONDS, 900, 5, 86_400);
}

/** How long a campaign may find no usable provider before it fails (BLOCKED_CAMPAIGN_TIMEOUT_SECONDS, default 3600). */
export function blockedTimeoutSeconds(env: Pick<Env, "BLOCKED_CAMPAIGN_TIMEOUT_SECONDS">): number {
  return wholeSetting(env.BLOCKED_CAMPAIGN_TIMEOUT_SECONDS, 3600, 1, 30 * 86_400);
}

/** Recipients one campaign may have admitted but not settled (CAMPAIGN_IN_FLIGHT_CAP, default 50,000). */
export function inFlightCap(env: Pick<Env, "CAMPAIGN_IN_FLIGHT_CAP">): number {
  return wholeSetting(env.CAMPAIGN_IN_FLIGHT_CAP, 50_000, 1, 10_000_000);
}
