import {
  createExecutionContext,
  createMessageBatch,
  createScheduledController,
  getQueueResult,
  waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { backoffSeconds, processBatch } from "../queues/handler";
import worker from "../src/index";
import { JsonLogger } from "../src/services/logger";

const tenant = "0190b1b2-7c1e-7a3b-9f00-0123456789ab";
const msg = (id: string, body: unknown, attempts = 1) => ({ id, timestamp: new Date(), attempts, body });

describe("queue consumers", () => {
  for (const queue of ["herald-events", "herald-events-dlq"]) {
    it(`${queue}: acknowledges valid messages`, async () => {
      const batch = createMessageBatch(queue, [
        msg("a", { type: "probe", tenant_id: tenant }),
        msg("b", { type: "probe", tenant_id: tenant }),
      ]);
      const ctx = createExecutionContext();
      await worker.queue(batch, env, ctx);
      const result = await getQueueResult(batch, ctx);
      expect(result.explicitAcks.sort()).toEqual(["a", "b"]);
      expect(result.retryMessages).toEqual([]);
    });
  }

  for (const queue of ["herald-send", "herald-fanout", "herald-send-dlq", "herald-fanout-dlq"]) {
    it(`${queue}: drops a message of the wrong shape instead of retrying it forever`, async () => {
      const batch = createMessageBatch(queue, [msg("a", { type: "probe", tenant_id: tenant })]);
      const ctx = createExecutionContext();
      await worker.queue(batch, env, ctx);
      const result = await getQueueResult(batch, ctx);
      expect(result.explicitAcks).toEqual(["a"]);
      expect(result.retryMessages).toEqual([]);
    });
  }

  it("drops a malformed message (it can never succeed) without holding up the others", async () => {
    const batch = createMessageBatch("herald-events", [msg("bad", { nope: true }), msg("good", { type: "open", tenant_id: tenant })]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks.sort()).toEqual(["bad", "good"]);
  });

  it("retries only the message whose handler failed, with a backoff delay", async () => {
    const batch = createMessageBatch("herald-send", [
      msg("ok", { type: "x", tenant_id: tenant }),
      msg("fails", { type: "boom", tenant_id: tenant }, 3),
    ]);
    const ctx = createExecutionContext();
    const logger = new JsonLogger({}, "error", () => {});
    await processBatch(
      batch,
      async (body) => {
        if (body.type === "boom") throw new Error("provider down");
      },
      { env, ctx, logger },
    );
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks).toEqual(["ok"]);
    expect(result.retryMessages).toHaveLength(1);
    expect(result.retryMessages[0]!.msgId).toBe("fails");
  });

  it("backs off exponentially with full jitter, capped", () => {
    for (let attempts = 1; attempts <= 12; attempts++) {
      const ceiling = Math.min(300, 2 * 2 ** (attempts - 1));
      for (let i = 0; i < 50; i++) {
        const d = backoffSeconds(attempts);
        expect(d).toBeGreaterThanOrEqual(1);
        expect(d).toBeLessThanOrEqual(ceiling);
      }
    }
  });

  it("leaves a batch from an unknown queue for its real consumer", async () => {
    const batch = createMessageBatch("someone-elses-queue", [msg("x", { type: "x", tenant_id: tenant })]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.retryBatch.retry).toBe(true);
    expect(result.explicitAcks).toEqual([]);
  });
});

describe("cron trigger", () => {
  it("runs the scheduled handler", async () => {
    const ctx = createExecutionContext();
    await expect(
      worker.scheduled(createScheduledController({ cron: "* * * * *", scheduledTime: Date.now() }), env, ctx),
    ).resolves.toBeUndefined();
    await waitOnExecutionContext(ctx);
  });
});

describe("the deployed entrypoint", () => {
  it("serves HTTP through the worker's default export", async () => {
    const res = await worker.fetch(new Request("http://herald.test/health"), env, createExecutionContext());
    expect(res.status).toBe(200);
    expect(res.headers.get("x-request-id")).toBeTruthy();
  });
});
