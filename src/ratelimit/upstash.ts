import { Ratelimit } from "@upstash/ratelimit";
import { upstashRedis } from "../services/upstash";
import type { RateLimitRule } from "./limits";
import type { PermitGrant, PermitStore } from "./limiter";

/**
 * How long a limit check may take before @upstash/ratelimit gives up and lets the request through
 * (reason "timeout"). Upstash answers a Worker in a few ms; a second is far beyond a healthy call
 * and short enough that an outage adds at most a second to each request (we fail open anyway).
 */
export const UPSTASH_TIMEOUT_MS = 1_000;

/** Ratelimit instances are cheap but not free to build: one per (database, rule), per isolate. */
const instances = new Map<string, Ratelimit>();

function instanceFor(url: string, token: string, rule: RateLimitRule): Ratelimit {
  const id = `${url}\n${token}\n${rule.limit}/${rule.windowSeconds}`;
  let rl = instances.get(id);
  if (!rl) {
    rl = new Ratelimit({
      // The timeout bounds the whole call, the client's one retry included.
      redis: upstashRedis(url, token),
      limiter: Ratelimit.slidingWindow(rule.limit, `${rule.windowSeconds} s`),
      prefix: `herald:rl:${rule.limit}/${rule.windowSeconds}`,
      // Every call reaches Redis: an in-isolate block cache would hide state from the other isolates.
      ephemeralCache: false,
      timeout: UPSTASH_TIMEOUT_MS,
      analytics: false,
    });
    instances.set(id, rl);
  }
  return rl;
}

export class TimedOut extends Error {
  constructor() {
    super(`the Upstash rate limit call took longer than ${UPSTASH_TIMEOUT_MS} ms`);
    this.name = "TimedOut";
  }
}

export class UpstashPermits implements PermitStore {
  constructor(
    private readonly url: string,
    private readonly token: string,
    private readonly waitUntil: (p: Promise<unknown>) => void = () => {},
  ) {}

  async take(key: string, rule: RateLimitRule, want: number): Promise<PermitGrant> {
    const rl = instanceFor(this.url, this.token, rule);
    // The library takes `rate` permits all or nothing; when a block does not fit, one may still.
    let r = await rl.limit(key, { rate: want });
    let granted = want;
    if (!r.success && want > 1 && r.reason !== "timeout") {
      this.waitUntil(r.pending);
      r = await rl.limit(key);
      granted = 1;
    }
    this.waitUntil(r.pending);
    // The library's own timeout answers "success" with reason "timeout"; surface it as a failure of
    // the store so the caller applies (and logs) herald's fail-open policy in one place.
    if (r.reason === "timeout") throw new TimedOut();
    return {
      granted: r.success ? granted : 0,
      limit: r.limit,
      remaining: Math.max(0, r.remaining),
      resetSeconds: Math.max(1, Math.ceil((r.reset - Date.now()) / 1000)),
    };
  }
}
