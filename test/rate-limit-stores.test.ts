// The stores behind the rate limits: the RateLimiter Durable Object's sliding window and block
// grants, and permit leasing over it and over Upstash (@upstash/ratelimit against the local Upstash
// REST endpoint in front of a real redis-server).
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { DurableObjectPermits } from "../src/ratelimit/durable-object";
import { LEASE_MIN_LIMIT, LeasingLimiter } from "../src/ratelimit/leasing";
import type { PermitStore } from "../src/ratelimit/limiter";
import { UpstashPermits } from "../src/ratelimit/upstash";
import { UPSTASH_TOKEN, UPSTASH_URL } from "./rate-limit-helpers";

describe("the RateLimiter Durable Object's sliding window", () => {
  it("weights the previous window by its overlap", async () => {
    const stub = env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(`unit:${crypto.randomUUID()}`));
    const rule = { limit: 4, windowSeconds: 10 };
    const t0 = 1_000_000_000_000; // a multiple of 10 s
    {
      const first = [];
      for (let i = 0; i < 5; i++) first.push(await stub.take(rule, 1, t0 + 1_000));
      expect(first.map((r) => [r.success, r.remaining])).toEqual([
        [true, 3],
        [true, 2],
        [true, 1],
        [true, 0],
        [false, 0],
      ]);
      // Full window: wait 9 s for it to end, then until 4 × (1 − x) + 1 ≤ 4, i.e. 2.5 s more.
      expect(first[4]!.resetSeconds).toBe(12);
      // 5 s into the next window the previous one weighs 4 × 0.5 = 2: two requests pass.
      const next = [];
      for (let i = 0; i < 3; i++) next.push(await stub.take(rule, 1, t0 + 15_000));
      expect(next.map((r) => r.success)).toEqual([true, true, false]);
      // Two windows later nothing is left of either.
      expect(await stub.take(rule, 1, t0 + 30_000)).toMatchObject({ success: true, remaining: 3 });
    }
  });

  it("rejects a malformed rule", async () => {
    const stub = env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(`unit:${crypto.randomUUID()}`));
    let message = "resolved";
    try {
      await stub.take({ limit: 0, windowSeconds: 60 }, 1);
    } catch (err) {
      message = String((err as Error).message);
    }
    expect(message).toMatch(/invalid rate limit rule/);
  });
});

describe("the Durable Object's block grants", () => {
  it("grants up to the room left, then none", async () => {
    const stub = env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(`unit:${crypto.randomUUID()}`));
    const rule = { limit: 10, windowSeconds: 60 };
    const t0 = Math.floor(Date.now() / 60_000) * 60_000 + 1_000;
    expect(await stub.take(rule, 7, t0)).toMatchObject({ granted: 7, remaining: 3, success: true });
    expect(await stub.take(rule, 7, t0)).toMatchObject({ granted: 3, remaining: 0, success: true });
    expect(await stub.take(rule, 1, t0)).toMatchObject({ granted: 0, remaining: 0, success: false });
  });
});

/** Counts the calls that reach the real store. */
function counting(store: PermitStore): PermitStore & { calls: number } {
  const counted = {
    calls: 0,
    take: (...args: Parameters<PermitStore["take"]>) => {
      counted.calls++;
      return store.take(...args);
    },
  };
  return counted;
}

const permitStores = [
  { name: "Durable Object", skip: false, store: (): PermitStore => new DurableObjectPermits(env.RATE_LIMITER) },
  { name: "Upstash", skip: !UPSTASH_URL, store: (): PermitStore => new UpstashPermits(UPSTASH_URL, UPSTASH_TOKEN) },
];

for (const backend of permitStores) {
  describe.skipIf(backend.skip)(`permit leasing over the ${backend.name}`, () => {
    it("serves a busy key from leased blocks, never past the limit, with a falling remaining count", async () => {
      const store = counting(backend.store());
      const limiter = new LeasingLimiter(store);
      const rule = { limit: 1_000, windowSeconds: 60 };
      const key = `lease:${crypto.randomUUID()}`;
      const results = [];
      for (let i = 0; i < 900; i++) results.push(await limiter.limit(key, rule));
      // Doubling from one permit to 20 takes 5 calls; the rest is 20 at a time.
      expect(store.calls).toBeLessThan(60);
      for (let i = 0; i < 200; i++) results.push(await limiter.limit(key, rule));
      const passed = results.filter((r) => r.success).length;
      // Blocks grow to 1/50 of the limit; whatever is leased is counted by the store.
      expect(passed).toBeLessThanOrEqual(1_000);
      expect(passed).toBeGreaterThanOrEqual(1_000 - rule.limit / 50);
      const remaining = results.filter((r) => r.success).map((r) => r.remaining);
      for (let i = 1; i < remaining.length; i++) expect(remaining[i]).toBeLessThanOrEqual(remaining[i - 1]!);
      expect(results.at(-1)).toMatchObject({ success: false });
    });

    it("concurrent requests of one isolate share one refill", async () => {
      const store = counting(backend.store());
      const limiter = new LeasingLimiter(store);
      const key = `lease:${crypto.randomUUID()}`;
      const results = await Promise.all(Array.from({ length: 20 }, () => limiter.limit(key, { limit: 1_000, windowSeconds: 60 })));
      expect(results.every((r) => r.success)).toBe(true);
      expect(store.calls).toBeLessThan(20);
    });

    it(`asks the store on every request below ${LEASE_MIN_LIMIT} per window, so small limits are exact`, async () => {
      const store = counting(backend.store());
      const limiter = new LeasingLimiter(store);
      const key = `lease:${crypto.randomUUID()}`;
      const results = [];
      for (let i = 0; i < 12; i++) results.push(await limiter.limit(key, { limit: 10, windowSeconds: 60 }));
      expect(store.calls).toBe(12);
      expect(results.filter((r) => r.success)).toHaveLength(10);
      expect(results.map((r) => r.remaining).slice(0, 10)).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    });
  });
}
