import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { CampaignProgress } from "../durable-objects/campaign-progress";
import { ProviderLimiter } from "../durable-objects/provider-limiter";

/** The message of the error an RPC call rejects with. */
async function rpcError(call: () => Promise<unknown>): Promise<string> {
  try {
    await call();
  } catch (err) {
    return String((err as Error).message);
  }
  return "resolved";
}

function limiter(name = crypto.randomUUID()) {
  return env.PROVIDER_LIMITER.get(env.PROVIDER_LIMITER.idFromName(name));
}

describe("ProviderLimiter", () => {
  it("grants a whole batch in one call while tokens last, then suggests a delay", async () => {
    const stub = limiter();
    await stub.configure({ ratePerSecond: 100, dailyQuota: 0 });
    await runInDurableObject(stub, async (instance: ProviderLimiter) => {
      const t0 = Date.now();
      expect(await instance.lease(60, t0)).toEqual({ granted: 60, retryAfterSeconds: 0, limitedBy: null });
      const short = await instance.lease(100, t0);
      expect(short.granted).toBe(40);
      expect(short.limitedBy).toBe("rate");
      expect(short.retryAfterSeconds).toBeGreaterThanOrEqual(1);
      // Half a second later half the bucket has refilled.
      expect((await instance.lease(100, t0 + 500)).granted).toBe(50);
    });
  });

  it("stops at the daily quota and says to wait for the next UTC day", async () => {
    const stub = limiter();
    await stub.configure({ ratePerSecond: 1000, dailyQuota: 150 });
    const first = await stub.lease(100);
    const second = await stub.lease(100);
    expect(first.granted).toBe(100);
    expect(second).toMatchObject({ granted: 50, limitedBy: "daily_quota" });
    expect(second.retryAfterSeconds).toBeGreaterThan(0);
    expect(second.retryAfterSeconds).toBeLessThanOrEqual(86_400);
  });

  it("keeps its counters in SQLite storage across eviction", async () => {
    const stub = limiter();
    await stub.configure({ ratePerSecond: 1000, dailyQuota: 500 });
    await stub.lease(200);
    await evictDurableObject(stub);
    const state = await stub.snapshot();
    expect(state.usedToday).toBe(200);
    expect(state.settings.dailyQuota).toBe(500);
    await runInDurableObject(stub, (_instance: ProviderLimiter, ctx) => {
      const rows = ctx.storage.sql.exec("SELECT count(*) AS n FROM limiter").one();
      expect(rows.n).toBe(1);
    });
  });

  it("rejects nonsense input", async () => {
    const stub = limiter();
    expect(await rpcError(() => stub.lease(-1))).toMatch(/non-negative/);
    expect(await rpcError(() => stub.configure({ ratePerSecond: 0, dailyQuota: 0 }))).toMatch(/invalid/);
  });
});

describe("CampaignProgress", () => {
  it("counts per-batch reports and completes when every recipient is terminal", async () => {
    const stub = env.CAMPAIGN_PROGRESS.get(env.CAMPAIGN_PROGRESS.idFromName(crypto.randomUUID()));
    const started = await stub.start("c-1", 250);
    expect(started).toMatchObject({ total: 250, queued: 250, state: "sending" });
    await stub.report({ sent: 100, failed: 0, skipped: 0 });
    const mid = await stub.report({ sent: 90, failed: 5, skipped: 5 });
    expect(mid).toMatchObject({ sent: 190, failed: 5, skipped: 5, queued: 50, state: "sending" });
    const done = await stub.report({ sent: 50, failed: 0, skipped: 0 });
    expect(done).toMatchObject({ queued: 0, state: "completed" });
    await runInDurableObject(stub, async (instance: CampaignProgress) => {
      expect((await instance.snapshot()).sent).toBe(240);
    });
  });

  it("refuses negative or fractional counts", async () => {
    const stub = env.CAMPAIGN_PROGRESS.get(env.CAMPAIGN_PROGRESS.idFromName(crypto.randomUUID()));
    await stub.start("c-2", 10);
    expect(await rpcError(() => stub.report({ sent: -1, failed: 0, skipped: 0 }))).toMatch(/non-negative/);
    expect(await rpcError(() => stub.report({ sent: 1.5, failed: 0, skipped: 0 }))).toMatch(/non-negative/);
  });
});
