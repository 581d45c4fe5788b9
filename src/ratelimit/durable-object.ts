import type { RateLimitRule } from "./limits";
import type { RateLimitResult, RateLimiter } from "./limiter";

/** The fallback backend: one RateLimiter Durable Object per limited key. */
export class DurableObjectRateLimiter implements RateLimiter {
  constructor(private readonly ns: Env["RATE_LIMITER"]) {}

  async limit(key: string, rule: RateLimitRule): Promise<RateLimitResult> {
    return this.ns.get(this.ns.idFromName(key)).limit(rule);
  }
}
