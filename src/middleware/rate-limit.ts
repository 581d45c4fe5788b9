import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { HonoEnv } from "../env";
import { HeraldError } from "../errors";
import { sha256Hex } from "../lib/encoding";
import { classify, effectiveLimits, rateLimiterFor, type AuthFlow, type RateLimitResult, type RateLimitRule } from "../ratelimit";

/**
 * Checks `key` against `rule`. When the store (Upstash or the Durable Object) is unreachable or too
 * slow, the request is let through (fail open) with a warning: rate limiting protects capacity, and
 * an outage of the limiter must not become an outage of the API.
 */
async function check(c: Context<HonoEnv>, key: string, rule: RateLimitRule): Promise<RateLimitResult | undefined> {
  const { limiter, backend } = rateLimiterFor(c.env, c.var.defer);
  try {
    return await limiter.limit(key, rule);
  } catch (err) {
    c.var.logger.warn("rate limiter unavailable; failing open", { backend, err });
    return undefined;
  }
}

function limitsOf(c: Context<HonoEnv>) {
  return effectiveLimits(c.var.config.rateLimitOverrides, (msg, fields) => c.var.logger.warn(msg, fields));
}

/** The IETF draft (draft-ietf-httpapi-ratelimit-headers) RateLimit and RateLimit-Policy fields. */
function rateLimitHeaders(policy: string, rule: RateLimitRule, result: RateLimitResult): Record<string, string> {
  return {
    "RateLimit-Policy": `"${policy}";q=${rule.limit};w=${rule.windowSeconds}`,
    RateLimit: `"${policy}";r=${result.remaining};t=${result.resetSeconds}`,
  };
}

function tooMany(policy: string, rule: RateLimitRule, result: RateLimitResult, what: string): HeraldError {
  return new HeraldError(
    "rate_limited",
    `${what} exceeded ${rule.limit} requests per ${rule.windowSeconds} s; retry after ${result.resetSeconds} s`,
    {
      headers: { ...rateLimitHeaders(policy, rule, result), "Retry-After": String(result.resetSeconds) },
    },
  );
}

/**
 * The per-credential limit, by the tenant's plan and the request's class (send or read). Call it
 * once c.var.principal is set; it throws rate_limited, or sets the RateLimit headers and returns.
 */
export async function enforceKeyRateLimit(c: Context<HonoEnv>): Promise<void> {
  const principal = c.var.principal;
  const cls = classify(c.req.method, c.req.path);
  const rule = limitsOf(c).plans[principal.plan][cls];
  const result = await check(c, `${principal.tenantId}:${principal.kind}:${principal.subject}:${cls}`, rule);
  if (!result) return;
  if (!result.success) throw tooMany(cls, rule, result, "this credential");
  for (const [name, value] of Object.entries(rateLimitHeaders(cls, rule, result))) c.header(name, value);
}

export function clientIp(c: Context<HonoEnv>): string {
  const cf = c.req.header("cf-connecting-ip")?.trim();
  if (cf) return cf;
  const forwarded = c.req.header("x-forwarded-for")?.split(",")[0]?.trim();
  return forwarded || "unknown";
}

/**
 * Never refused for rate, whoever mounts ipRateLimit in front of them: the RFC 8058 one-click
 * unsubscribe POST, the open pixel and click redirect, and inbound provider webhooks. Mailbox
 * providers and ESPs call them from a few addresses, and a refusal would lose an unsubscribe or an
 * event; the work behind them is bounded instead.
 */
const NEVER_RATE_LIMITED = /^\/(u\/|t\/[oc]\/|v1\/webhooks\/inbound\/)/;

export function isNeverRateLimited(path: string): boolean {
  return NEVER_RATE_LIMITED.test(path);
}

/** One generous limit per client IP on every /v1 request, before authentication. */
export const ipRateLimit = createMiddleware<HonoEnv>(async (c, next) => {
  if (isNeverRateLimited(c.req.path)) return next();
  const rule = limitsOf(c).ip;
  const result = await check(c, `ip:${clientIp(c)}`, rule);
  if (result && !result.success) throw tooMany("ip", rule, result, "this client address");
  await next();
});

export interface AuthAttemptOptions<T> {
  /** The account named before the credential is checked (the console's sign-in: the email). */
  account?: string;
  /** The account learned from a successful check (token exchange: the API key). */
  accountOf?: (result: T) => string;
}

interface Subject {
  /** Which limiter bucket: the flow and the IP or the (hashed) account. */
  key: string;
  attempts: RateLimitRule;
  failures: RateLimitRule;
  what: string;
}

interface Lockout {
  until: number;
}

/**
 * Runs `verify`, a credential check, under the flow's limits (RATE_LIMITS.auth): attempts per IP
 * (and per named account) before it, failures after it. A failure that uses up a failure limit
 * locks that IP or account out for one window, so the next attempt is refused before its
 * credential is looked at, right or wrong. Only `unauthorized` counts as a failure.
 * Token exchange, signup and the console's sign-in all go through here.
 */
export async function limitAuthAttempt<T>(
  c: Context<HonoEnv>,
  flow: AuthFlow,
  verify: () => Promise<T>,
  opts: AuthAttemptOptions<T> = {},
): Promise<T> {
  const rules = limitsOf(c).auth[flow];
  const subjects: Subject[] = [
    { key: `${flow}:ip:${clientIp(c)}`, attempts: rules.ip, failures: rules.ipFailures, what: "this client address" },
  ];
  if (opts.account !== undefined) {
    subjects.push({
      key: `${flow}:account:${await sha256Hex(opts.account)}`,
      attempts: rules.account,
      failures: rules.accountFailures,
      what: "this account",
    });
  }
  for (const s of subjects) await refuseIfLockedOut(c, flow, s);
  for (const s of subjects) await countAttempt(c, `auth:${s.key}`, s.attempts, `${flow}-attempts`, s.what);
  let result: T;
  try {
    result = await verify();
  } catch (err) {
    if (err instanceof HeraldError && err.code === "unauthorized") {
      const refusals = [];
      for (const s of subjects) refusals.push(await countFailure(c, flow, s));
      throw refusals.find((r) => r !== undefined) ?? err;
    }
    throw err;
  }
  if (opts.accountOf) {
    const key = `auth:${flow}:account:${await sha256Hex(opts.accountOf(result))}`;
    await countAttempt(c, key, rules.account, `${flow}-attempts`, "this account");
  }
  return result;
}

async function countAttempt(c: Context<HonoEnv>, key: string, rule: RateLimitRule, policy: string, what: string): Promise<void> {
  const result = await check(c, key, rule);
  if (result && !result.success) throw tooMany(policy, rule, result, what);
}

/**
 * Failure counts and lockouts are kept per rule as well as per subject, so requests running under
 * other limits (RATE_LIMIT_OVERRIDES, e.g. a test run that lifts them) never lock out, or count
 * against, callers under the normal ones.
 */
const ruleTag = (rule: RateLimitRule) => `${rule.limit}/${rule.windowSeconds}`;
const lockoutKey = (s: Subject) => `authlock:${s.key}:${ruleTag(s.failures)}`;

async function refuseIfLockedOut(c: Context<HonoEnv>, flow: AuthFlow, s: Subject): Promise<void> {
  // Like the limiter, a cache outage fails open.
  const lock = await c.var.cache.get<Lockout>(lockoutKey(s)).catch(() => undefined);
  const left = lock ? Math.ceil((lock.until - Date.now()) / 1000) : 0;
  if (left > 0) throw lockedOut(flow, s, { success: false, limit: s.failures.limit, remaining: 0, resetSeconds: left });
}

/**
 * Counts a failed attempt. The one that reaches the limit locks the IP or account out for a whole
 * window: a sliding window alone would free a permit within seconds, and the next attempt, right or
 * wrong, would be checked. Returns the 429 to answer instead of the 401 once past the limit.
 */
async function countFailure(c: Context<HonoEnv>, flow: AuthFlow, s: Subject): Promise<HeraldError | undefined> {
  const result = await check(c, `authfail:${s.key}:${ruleTag(s.failures)}`, s.failures);
  if (!result || (result.success && result.remaining > 0)) return undefined;
  // The lockout lives in the cache: on Upstash every isolate sees it at once; on KV this isolate
  // does at once and other locations within KV's propagation, while the limiter itself keeps
  // refusing their failures meanwhile.
  const seconds = s.failures.windowSeconds;
  const lock: Lockout = { until: Date.now() + seconds * 1000 };
  await c.var.cache.set(lockoutKey(s), lock, seconds).catch((err) => c.var.logger.warn("could not store an auth lockout", { err }));
  c.var.logger.warn("auth attempts locked out", { flow, subject: s.what });
  // The failure that used the last permit still gets its 401; one past it gets the 429.
  return result.success ? undefined : lockedOut(flow, s, { ...result, remaining: 0, resetSeconds: seconds });
}

function lockedOut(flow: AuthFlow, s: Subject, result: RateLimitResult): HeraldError {
  const policy = `${flow}-failures`;
  return new HeraldError(
    "rate_limited",
    `too many failed attempts (${s.what}: at most ${s.failures.limit} per ${s.failures.windowSeconds} s); retry after ${result.resetSeconds} s`,
    {
      headers: { ...rateLimitHeaders(policy, s.failures, result), "Retry-After": String(result.resetSeconds) },
    },
  );
}
