import { z } from "zod";
import { parseLogLevel, type LogLevel } from "./services/logger";

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

export class ConfigError extends Error {
  constructor(readonly setting: string) {
    super(setting);
    this.name = "ConfigError";
  }
}

/** herald's settings, parsed from the environment once per env object (see config()). */
export interface Config {
  logLevel: LogLevel;
  /**
   * The auth settings, or why they cannot be used. Kept rather than thrown, so a broken JWT setting
   * fails only what needs it (authConfig) and never the cron, the queues or API-key requests.
   */
  auth: AuthConfig | ConfigError;
  databaseUrl?: string;
  /** Local mode: the WebSocket-to-TCP proxy in front of a plain PostgreSQL. */
  neonWsProxy?: string;
  upstash?: { url: string; token: string };
  publicUrl?: string;
  unsubscribeMailto?: string;
  trackingSecret?: string;
  encryptionKey?: string;
  adminSecret?: string;
  rateLimitOverrides?: string;
  devAllowLoopback: boolean;
  chaos?: string;
  /** The share of each provider's rate kept for transactional mail (0–0.9, default 0.2). */
  transactionalShare: number;
  /** How old an unsettled claim must be before the cron settles it (5 s–1 day, default 900). */
  staleClaimSeconds: number;
  /** How long a campaign may find no usable provider before it fails (1 s–30 days, default 3600). */
  blockedTimeoutSeconds: number;
  /** Recipients one campaign may have admitted but not settled (1–10,000,000, default 50,000). */
  inFlightCap: number;
}

/** Any object with some of Env's settings: the Env itself, a test's override, a Pick<Env, …>. */
export type Settings = { [K in keyof Env]?: unknown };

const blank = (v: string | undefined) => (v && v.trim() !== "" ? v.trim() : undefined);

/** A text setting; blank means unset. Anything not a string (a mistyped override) is unset too. */
const text = z.string().optional().catch(undefined).transform(blank);
/** Kept as given: the readers of these never trimmed them, and a flag must be exactly "1". */
const raw = z.string().optional().catch(undefined);

/** A whole number setting within [min, max], or its default when unset or not a number. */
const whole = (fallback: number, min: number, max: number) =>
  text.transform((v) => {
    const n = Number.parseInt(v ?? "", 10);
    return Number.isFinite(n) ? Math.min(max, Math.max(min, n)) : fallback;
  });

const share = text.transform((v) => {
  const n = Number.parseFloat(v ?? "");
  return Number.isFinite(n) ? Math.min(0.9, Math.max(0, n)) : 0.2;
});

const Environment = z.object({
  LOG_LEVEL: raw,
  JWT_ALG: text,
  JWT_SECRET: text,
  IDP_JWT_SECRET: text,
  JWKS_URL: text,
  JWT_ISSUER: text,
  JWT_AUDIENCE: text,
  DATABASE_URL: raw,
  NEON_WS_PROXY: raw,
  UPSTASH_REDIS_REST_URL: text,
  UPSTASH_REDIS_REST_TOKEN: text,
  PUBLIC_URL: text,
  UNSUBSCRIBE_MAILTO: text,
  TRACKING_SECRET: raw,
  ENCRYPTION_KEY: raw,
  ADMIN_SECRET: text,
  RATE_LIMIT_OVERRIDES: raw,
  DEV_ALLOW_LOOPBACK: raw,
  HERALD_CHAOS: text,
  TRANSACTIONAL_SHARE: share,
  STALE_CLAIM_SECONDS: whole(900, 5, 86_400),
  BLOCKED_CAMPAIGN_TIMEOUT_SECONDS: whole(3600, 1, 30 * 86_400),
  CAMPAIGN_IN_FLIGHT_CAP: whole(50_000, 1, 10_000_000),
});
type Environment = z.infer<typeof Environment>;

/**
 * A misconfiguration is the operator's fault, not the caller's: it surfaces as 503 with a generic
 * detail and a log line naming the setting. A setting that would let someone mint herald's own
 * tokens makes every JWT unusable; one that only breaks the identity provider is reported when such
 * a token arrives, so session tokens and API keys keep working.
 */
function readAuth(e: Environment): AuthConfig {
  const alg = (e.JWT_ALG ?? "HS256").toUpperCase() as JwtAlg;
  if (!JWT_ALGS.includes(alg)) throw new ConfigError(`JWT_ALG must be one of ${JWT_ALGS.join(", ")}`);
  const jwtSecret = e.JWT_SECRET;
  if (jwtSecret && jwtSecret.length < 32) throw new ConfigError("JWT_SECRET must be at least 32 characters");
  const idpSecret = e.IDP_JWT_SECRET;
  // With one secret for both, whoever holds the provider's secret could mint herald session tokens.
  if (idpSecret && idpSecret === jwtSecret) throw new ConfigError("IDP_JWT_SECRET must differ from JWT_SECRET");

  const idp = ((): IdpConfig => {
    const jwksUrl = e.JWKS_URL;
    if (alg === "HS256" && !idpSecret) return { kind: "disabled", reason: "identity-provider tokens are not enabled" };
    if (alg === "HS256" && idpSecret!.length < 32)
      return { kind: "misconfigured", setting: "IDP_JWT_SECRET must be at least 32 characters" };
    if (alg !== "HS256" && !jwksUrl) return { kind: "misconfigured", setting: `JWT_ALG=${alg} needs JWKS_URL` };
    // Without both, a token from any issuer or meant for any service that shares the key would pass.
    const issuer = e.JWT_ISSUER;
    const audience = e.JWT_AUDIENCE;
    if (!issuer || !audience) return { kind: "misconfigured", setting: "identity-provider tokens need JWT_ISSUER and JWT_AUDIENCE" };
    if (issuer === "herald")
      return { kind: "misconfigured", setting: 'JWT_ISSUER may not be "herald" (the issuer of herald\'s own tokens)' };
    return alg === "HS256"
      ? { kind: "hs256", secret: idpSecret!, issuer, audience }
      : { kind: "jwks", alg, jwksUrl: jwksUrl!, issuer, audience };
  })();
  return { jwtAlg: alg, jwtSecret, idp };
}

function parse(env: Settings): Config {
  const e = Environment.parse(env);
  let auth: AuthConfig | ConfigError;
  try {
    auth = readAuth(e);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    auth = err;
  }
  return {
    logLevel: parseLogLevel(e.LOG_LEVEL),
    auth,
    databaseUrl: e.DATABASE_URL,
    neonWsProxy: e.NEON_WS_PROXY,
    upstash:
      e.UPSTASH_REDIS_REST_URL && e.UPSTASH_REDIS_REST_TOKEN
        ? { url: e.UPSTASH_REDIS_REST_URL, token: e.UPSTASH_REDIS_REST_TOKEN }
        : undefined,
    publicUrl: e.PUBLIC_URL?.replace(/\/+$/, ""),
    unsubscribeMailto: e.UNSUBSCRIBE_MAILTO,
    trackingSecret: e.TRACKING_SECRET,
    encryptionKey: e.ENCRYPTION_KEY,
    adminSecret: e.ADMIN_SECRET,
    rateLimitOverrides: e.RATE_LIMIT_OVERRIDES,
    devAllowLoopback: e.DEV_ALLOW_LOOPBACK === "1",
    chaos: e.HERALD_CHAOS,
    transactionalShare: e.TRANSACTIONAL_SHARE,
    staleClaimSeconds: e.STALE_CLAIM_SECONDS,
    blockedTimeoutSeconds: e.BLOCKED_CAMPAIGN_TIMEOUT_SECONDS,
    inFlightCap: e.CAMPAIGN_IN_FLIGHT_CAP,
  };
}

// Keyed by the env object: Workers hand every request of an isolate the same one, so it is parsed
// once; a test's per-request override is a new object and gets its own parse.
const parsed = new WeakMap<object, Config>();

/** The environment's settings, validated and defaulted; parsed once per env object. */
export function config(env: Settings): Config {
  let c = parsed.get(env);
  if (!c) {
    c = parse(env);
    parsed.set(env, c);
  }
  return c;
}

/** The auth settings; throws ConfigError when they make every JWT unusable. */
export function authConfig(env: Settings): AuthConfig {
  const { auth } = config(env);
  if (auth instanceof ConfigError) throw auth;
  return auth;
}

export const transactionalShare = (env: Settings): number => config(env).transactionalShare;
export const staleClaimSeconds = (env: Settings): number => config(env).staleClaimSeconds;
export const blockedTimeoutSeconds = (env: Settings): number => config(env).blockedTimeoutSeconds;
export const inFlightCap = (env: Settings): number => config(env).inFlightCap;
