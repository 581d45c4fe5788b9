import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { HonoEnv } from "../env";
import { HeraldError } from "../errors";
import { classify, effectiveLimits, rateLimiterFor, type RateLimitResult, type RateLimitRule } from "../ratelimit";
import { getTenant } from "../services/tenants";

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
  return effectiveLimits(c.env.RATE_LIMIT_OVERRIDES, (msg, fields) => c.var.logger.warn(msg, fields));
}

/** The IETF draft (draft-ietf-httpapi-ratelimit-headers) RateLimit and RateLimit-Policy fields. */
function rateLimitHeaders(policy: string, rule: RateLimitRule, result: RateLimitResult): Record<string, string> {
  return {
    "RateLimit-Policy": `"${policy}";q=${rule.limit};w=${rule.windowSeconds}`,
    RateLimit: `"${policy}";r=${result.remaining};t=${result.resetSeconds}`,
  };
}

function tooMany(policy: string, rule: RateLimitRule, result: RateLimitResult, what: string): HeraldError {
  return new HeraldError("rate_limited", `${what} exceeded ${rule.limit} requests per ${rule.windowSeconds} s; retry after ${result.resetSeconds} s`, {
    headers: { ...rateLimitHeaders(policy, rule, result), "Retry-After": String(result.resetSeconds) },
  });
}

/**
 * The per-credential limit, by the tenant's plan and the request's class (send or read). Call it
 * once c.var.principal is set; it throws rate_limited, or sets the RateLimit headers and returns.
 */
export async function enforceKeyRateLimit(c: Context<HonoEnv>): Promise<void> {
  const principal = c.var.principal;
  const cls = classify(c.req.method, c.req.path);
  const tenant = await getTenant(c.var.db, c.var.cache, principal.tenantId);
  const rule = limitsOf(c).plans[tenant?.plan ?? "free"][cls];
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

/** One generous limit per client IP on every /v1 request, before authentication. */
export const ipRateLimit = createMiddleware<HonoEnv>(async (c, next) => {
  const rule = limitsOf(c).ip;
  const result = await check(c, `ip:${clientIp(c)}`, rule);
  if (result && !result.success) throw tooMany("ip", rule, result, "this client address");
  await next();
});
