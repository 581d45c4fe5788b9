import type { RateLimitRule } from "./limits";
import type { PermitGrant, PermitStore } from "./limiter";

/** The fallback backend: one RateLimiter Durable Object per limited key. */
export class DurableObjectPermits implements PermitStore {
  constructor(private readonly ns: Env["RATE_LIMITER"]) {}

  async take(key: string, rule: RateLimitRule, want: number): Promise<PermitGrant> {
    const { granted, limit, remaining, resetSeconds } = await this.ns.get(this.ns.idFromName(key)).take(rule, want);
    return { granted, limit, remaining, resetSeconds };
  }
}
