import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { CampaignProgress, ProgressSnapshot } from "../durable-objects/campaign-progress";
import { BREAKER_THRESHOLD, type ProviderLimiter } from "../durable-objects/provider-limiter";

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
  it("grants a whole batch in one call or nothing, with a suggested delay", async () => {
    const stub = limiter();
    await runInDurableObject(stub, (instance: ProviderLimiter) => {
      const t0 = Date.now() + 10;
      const settings = { ratePerSecond: 100, dailyQuota: 0 };
      instance.configure(settings);
      expect(instance.lease(60, settings, t0)).toMatchObject({
        granted: true,
        count: 60,
        limitedBy: null,
        breaker: "closed",
        reportOutcome: false,
      });
      const denied = instance.lease(100, settings, t0);
      expect(denied).toMatchObject({ granted: false, limitedBy: "rate" });
      expect(denied.retryAfterSeconds).toBe(1);
      // A second later the bucket is full again.
      expect(instance.lease(100, settings, t0 + 1000).granted).toBe(true);
    });
  });

  it("lets a batch bigger than the bucket through once full, then makes the next wait it off", async () => {
    const stub = limiter();
    await runInDurableObject(stub, (instance: ProviderLimiter) => {
      const t0 = Date.now() + 10;
      const slow = { ratePerSecond: 10, dailyQuota: 0 };
      instance.configure(slow);
      expect(instance.lease(100, slow, t0).granted).toBe(true);
      const next = instance.lease(10, slow, t0);
      expect(next).toMatchObject({ granted: false, limitedBy: "rate" });
      expect(next.retryAfterSeconds).toBeGreaterThanOrEqual(10);
    });
  });

  it("stops at the daily quota and says to wait for the next UTC day", async () => {
    const stub = limiter();
    const settings = { ratePerSecond: 1000, dailyQuota: 150 };
    expect((await stub.lease(100, settings)).granted).toBe(true);
    const second = await stub.lease(100, settings);
    expect(second).toMatchObject({ granted: false, limitedBy: "daily_quota" });
    expect(second.retryAfterSeconds).toBeGreaterThan(0);
    expect(second.retryAfterSeconds).toBeLessThanOrEqual(86_400);
    expect((await stub.lease(50, settings)).granted).toBe(true);
  });

  it("opens its circuit breaker after consecutive failures and probes half-open later", async () => {
    const stub = limiter();
    await runInDurableObject(stub, (instance: ProviderLimiter) => {
      const t0 = Date.now() + 10;
      const settings = { ratePerSecond: 1000, dailyQuota: 0 };
      for (let i = 0; i < BREAKER_THRESHOLD - 1; i++) expect(instance.reportResult(false, t0)).toBe("closed");
      // Failures on record: a granted batch must report how it went.
      expect(instance.lease(1, settings, t0)).toMatchObject({ granted: true, reportOutcome: true });
      expect(instance.reportResult(false, t0)).toBe("open");
      const refused = instance.lease(1, settings, t0 + 1000);
      expect(refused).toMatchObject({ granted: false, limitedBy: "circuit_open", breaker: "open" });
      expect(refused.retryAfterSeconds).toBeLessThanOrEqual(30);

      const probe = instance.lease(1, settings, t0 + 31_000);
      expect(probe).toMatchObject({ granted: true, breaker: "half_open", reportOutcome: true });
      expect(instance.lease(1, settings, t0 + 31_000)).toMatchObject({ granted: false, limitedBy: "circuit_open" });
      expect(instance.reportResult(false, t0 + 31_500)).toBe("open");
      // The failed probe doubles the cool-down.
      expect(instance.lease(1, settings, t0 + 62_000).granted).toBe(false);
      expect(instance.lease(1, settings, t0 + 92_000)).toMatchObject({ granted: true, breaker: "half_open" });
      expect(instance.reportResult(true, t0 + 92_500)).toBe("closed");
      expect(instance.lease(1, settings, t0 + 93_000)).toMatchObject({ granted: true, breaker: "closed", reportOutcome: false });
    });
  });

  it("keeps its state in SQLite storage across eviction, and takes refunds", async () => {
    const stub = limiter();
    const settings = { ratePerSecond: 1000, dailyQuota: 500 };
    await stub.lease(200, settings);
    await stub.refund(50);
    await evictDurableObject(stub);
    const state = await stub.snapshot();
    expect(state.usedToday).toBe(150);
    expect(state.settings.dailyQuota).toBe(500);
    await runInDurableObject(stub, (_instance: ProviderLimiter, ctx) => {
      expect(ctx.storage.sql.exec("SELECT count(*) AS n FROM limiter").one().n).toBe(1);
    });
  });

  it("rejects nonsense input", async () => {
    const stub = limiter();
    expect(await rpcError(() => stub.lease(-1))).toMatch(/non-negative/);
    expect(await rpcError(() => stub.configure({ ratePerSecond: 0, dailyQuota: 0 }))).toMatch(/invalid/);
  });
});

function progress() {
  return env.CAMPAIGN_PROGRESS.get(env.CAMPAIGN_PROGRESS.idFromName(crypto.randomUUID()));
}

describe("CampaignProgress", () => {
  it("counts per-batch reports, takes fan-out's exact total and retries", async () => {
    const stub = progress();
    const tenantId = crypto.randomUUID();
    const campaignId = crypto.randomUUID();
    expect(await stub.start({ tenantId, campaignId, total: 250 })).toMatchObject({ total: 250, queued: 250, state: "sending" });
    await stub.report({ sent: 100, failed: 0, skipped: 0 });
    const mid = await stub.report({ sent: 90, failed: 5, skipped: 5 });
    expect(mid).toMatchObject({ sent: 190, failed: 5, skipped: 5, queued: 50 });
    expect(await stub.plan({ tenantId, campaignId, total: 240, pages: [] })).toMatchObject({ total: 240, queued: 40 });
    expect(await stub.retrying(5)).toMatchObject({ failed: 0, queued: 45, state: "sending" });
    await runInDurableObject(stub, (instance: CampaignProgress) => {
      expect(instance.snapshot().sent).toBe(190);
    });
  });

  it("streams snapshots over a hibernatable WebSocket", async () => {
    const stub = progress();
    await stub.start({ tenantId: crypto.randomUUID(), campaignId: crypto.randomUUID(), total: 10 });
    const res = await stub.fetch("https://progress/stream", { headers: { upgrade: "websocket" } });
    expect(res.status).toBe(101);
    const ws = res.webSocket!;
    const seen: ProgressSnapshot[] = [];
    // Resolves on the first snapshot that shows the pause, rather than after a guessed delay.
    const paused = new Promise<ProgressSnapshot>((resolve) =>
      ws.addEventListener("message", (e) => {
        const snapshot = JSON.parse(e.data as string) as ProgressSnapshot;
        seen.push(snapshot);
        if (snapshot.state === "paused") resolve(snapshot);
      }),
    );
    ws.accept();
    await stub.report({ sent: 3, failed: 0, skipped: 0 });
    await stub.setState("paused");
    expect(await paused).toMatchObject({ sent: 3, state: "paused" });
    expect(seen.at(-1)).toMatchObject({ sent: 3, state: "paused" });
    await runInDurableObject(stub, (_i: CampaignProgress, ctx) => {
      expect(ctx.getWebSockets()).toHaveLength(1);
    });
    ws.close(1000, "done");
  });

  it("refuses a plain HTTP request on the stream endpoint", async () => {
    expect((await progress().fetch("https://progress/stream")).status).toBe(426);
  });

  it("refuses negative or fractional counts", async () => {
    const stub = progress();
    await stub.start({ tenantId: crypto.randomUUID(), campaignId: crypto.randomUUID(), total: 10 });
    expect(await rpcError(() => stub.report({ sent: -1, failed: 0, skipped: 0 }))).toMatch(/non-negative/);
    expect(await rpcError(() => stub.report({ sent: 1.5, failed: 0, skipped: 0 }))).toMatch(/non-negative/);
  });
});
