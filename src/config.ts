export type JwtAlg = "HS256" | "RS256" | "ES256";
const JWT_ALGS: readonly JwtAlg[] = ["HS256", "RS256", "ES256"];

export interface AuthConfig {
  /** The algorithm accepted for caller-issued JWTs. Anything else is refused. */
  jwtAlg: JwtAlg;
  jwtSecret?: string;
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
}

const blank = (v: string | undefined) => (v && v.trim() !== "" ? v.trim() : undefined);

/**
 * Reads auth settings from the environment. A misconfiguration is the operator's fault, not the
 * caller's: it surfaces as 503 with a generic detail and a log line naming the setting.
 */
export function authConfig(env: Env): AuthConfig {
  const alg = (blank(env.JWT_ALG) ?? "HS256").toUpperCase() as JwtAlg;
  if (!JWT_ALGS.includes(alg)) throw misconfigured(`JWT_ALG must be one of ${JWT_ALGS.join(", ")}`);
  const cfg: AuthConfig = {
    jwtAlg: alg,
    jwtSecret: blank(env.JWT_SECRET),
    jwksUrl: blank(env.JWKS_URL),
    issuer: blank(env.JWT_ISSUER),
    audience: blank(env.JWT_AUDIENCE),
  };
  if (cfg.jwtSecret && cfg.jwtSecret.length < 32) throw misconfigured("JWT_SECRET must be at least 32 characters");
  if (alg === "HS256" && !cfg.jwtSecret) throw misconfigured("JWT_ALG=HS256 needs JWT_SECRET");
  if (alg !== "HS256" && !cfg.jwksUrl) throw misconfigured(`JWT_ALG=${alg} needs JWKS_URL`);
  return cfg;
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
