// The worker's queue and cron entry points, driven through its real default export: what each
// consumer acknowledges, drops and retries, and what a cron tick runs.
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { afterEach, describe, expect, it, vi } from "vitest";
import { backoffSeconds } from "../queues/handler";
import worker from "../src/index";
import { cronTick, query } from "./campaign-helpers";
import { newTenant } from "./helpers";

const msg = (id: string, body: unknown, attempts = 1) => ({ id, timestamp: new Date(), attempts, body });

/** A valid events-queue message: an open from tracking, with a source id of its own. */
const openEvent = (tenantId: string, occurredAt = new Date().toISOString()) => ({
  type: "event",
  tenant_id: tenantId,
  event: { type: "opened", source: "tracking", provider_event_id: crypto.randomUUID(), occurred_at: occurredAt },
});

/**
 * Runs one batch through the worker's queue export and returns what it acked and retried. The test
 * pool's result leaves out retry delays, so they are read off the retry calls: `retryDelays` by
 * message id, `batchRetryDelay` for a retry of the whole batch.
 */
async function consume(queue: string, messages: ReturnType<typeof msg>[]) {
  const batch = createMessageBatch(queue, messages);
  const retries = batch.messages.map((m) => [m.id, vi.spyOn(m, "retry")] as const);
  const retryAll = vi.spyOn(batch, "retryAll");
  const ctx = createExecutionContext();
  await worker.queue(batch, env, ctx);
  const result = await getQueueResult(batch, ctx);
  const retryDelays = Object.fromEntries(
    retries.filter(([, spy]) => spy.mock.calls.length > 0).map(([id, spy]) => [id, spy.mock.calls.at(-1)![0]?.delaySeconds]),
  );
  return { ...result, retryDelays, batchRetryDelay: retryAll.mock.calls.at(-1)?.[0]?.delaySeconds };
}

/** The source ids of the events stored for a tenant. */
const storedEvents = async (tenantId: string) =>
  (await query<{ id: string }>(sql`SELECT provider_event_id AS id FROM events WHERE tenant_id = ${tenantId}`)).map((r) => r.id).sort();

/** Collects the worker's JSON log lines (console.log) until the test ends. */
function captureLogs(): Record<string, unknown>[] {
  const lines: Record<string, unknown>[] = [];
  vi.spyOn(console, "log").mockImplementation(
    (line: unknown) => void lines.push(typeof line === "string" && line.startsWith("{") ? JSON.parse(line) : { line }),
  );
  return lines;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("queue consumers", () => {
  it("herald-events: stores valid events and acknowledges them", async () => {
    const { tenantId } = await newTenant();
    const events = [openEvent(tenantId), openEvent(tenantId)];
    const result = await consume("herald-events", [msg("a", events[0]), msg("b", events[1])]);
    expect(result.explicitAcks.sort()).toEqual(["a", "b"]);
    expect(result.retryMessages).toEqual([]);
    expect(await storedEvents(tenantId)).toEqual(events.map((e) => e.event.provider_event_id).sort());
  });

  it("herald-events-dlq: acknowledges a dead-lettered event after logging it as an error, storing nothing", async () => {
    const { tenantId } = await newTenant();
    const logs = captureLogs();
    const result = await consume("herald-events-dlq", [msg("a", openEvent(tenantId)), msg("b", openEvent(tenantId))]);
    expect(result.explicitAcks.sort()).toEqual(["a", "b"]);
    expect(result.retryMessages).toEqual([]);
    const deadLettered = logs.filter((l) => l.msg === "message dead-lettered");
    expect(deadLettered.map((l) => [l.level, l.message_id, l.type]).sort()).toEqual([
      ["error", "a", "event"],
      ["error", "b", "event"],
    ]);
    expect(await storedEvents(tenantId)).toEqual([]);
  });

  for (const queue of ["herald-send", "herald-fanout", "herald-send-dlq", "herald-fanout-dlq"]) {
    it(`${queue}: drops a message of the wrong shape instead of retrying it forever`, async () => {
      const logs = captureLogs();
      const { tenantId } = await newTenant();
      // A valid envelope, but not a message this queue's consumer takes.
      const result = await consume(queue, [msg("a", { type: "probe", tenant_id: tenantId })]);
      expect(result.explicitAcks).toEqual(["a"]);
      expect(result.retryMessages).toEqual([]);
      expect(result.retryBatch.retry).toBe(false);
      // Dropped loudly: an error line says so.
      expect(logs.filter((l) => l.level === "error" && /^malformed .*dropped$/.test(String(l.msg)))).toHaveLength(1);
    });
  }

  it("drops a malformed message (it can never succeed) without holding up the others", async () => {
    const { tenantId } = await newTenant();
    const good = openEvent(tenantId);
    const result = await consume("herald-events", [msg("bad", { nope: true }), msg("good", good)]);
    expect(result.explicitAcks.sort()).toEqual(["bad", "good"]);
    expect(result.retryMessages).toEqual([]);
    expect(await storedEvents(tenantId)).toEqual([good.event.provider_event_id]);
  });

  it("retries only the message whose handler failed, with a backoff delay", async () => {
    const { tenantId } = await newTenant();
    const ok = openEvent(tenantId);
    // Valid to the queue schema, but PostgreSQL refuses a UTC offset past ±15:59: this one cannot be stored.
    const fails = openEvent(tenantId, "2025-06-01T00:00:00+23:59");
    vi.spyOn(Math, "random").mockReturnValue(0.5);
    const result = await consume("herald-events", [msg("ok", ok), msg("fails", fails, 3)]);
    expect(result.explicitAcks).toEqual(["ok"]);
    // The third attempt backs off up to 2 × 2² = 8 s; half of that with the random draw at 0.5.
    expect(result.retryMessages.map((m) => m.msgId)).toEqual(["fails"]);
    expect(result.retryDelays).toEqual({ fails: 4 });
    expect(await storedEvents(tenantId)).toEqual([ok.event.provider_event_id]);
  });

  it("backs off exponentially with full jitter, capped", () => {
    const random = vi.spyOn(Math, "random");
    // The highest draw gives the ceiling: 2 s doubling with each attempt, capped at 300 s.
    random.mockReturnValue(0.999_999);
    expect(Array.from({ length: 10 }, (_, i) => backoffSeconds(i + 1))).toEqual([2, 4, 8, 16, 32, 64, 128, 256, 300, 300]);
    // Full jitter: any delay from the floor of 1 s up to the ceiling.
    random.mockReturnValue(0);
    expect(backoffSeconds(1)).toBe(1);
    expect(backoffSeconds(12)).toBe(1);
    random.mockReturnValue(0.25);
    expect(backoffSeconds(5)).toBe(8);
    expect(backoffSeconds(12)).toBe(75);
  });

  it("leaves a batch from an unknown queue for its real consumer", async () => {
    const result = await consume("someone-elses-queue", [msg("x", { type: "x", tenant_id: crypto.randomUUID() })]);
    expect(result.retryBatch.retry).toBe(true);
    expect(result.batchRetryDelay).toBe(60);
    expect(result.explicitAcks).toEqual([]);
  });
});

describe("cron trigger", () => {
  it("runs every maintenance step of a tick, none failing", async () => {
    // Work for the last step: an idempotency key past its 24 hours.
    const { tenantId } = await newTenant();
    const key = `old-${crypto.randomUUID()}`;
    await query(sql`
      INSERT INTO idempotency_keys (tenant_id, key, request_hash, response_status, response_body, created_at)
      VALUES (${tenantId}, ${key}, 'x', 202, '{}'::jsonb, now() - interval '26 hours')`);
    const logs = captureLogs();
    // LOG_LEVEL info: the tick's summary line is an info line.
    await cronTick({ LOG_LEVEL: "info" });
    expect(logs.filter((l) => l.msg === "cron step failed")).toEqual([]);
    const summary = logs.find((l) => l.msg === "cron tick");
    const steps = [
      "partitions",
      "launch_due",
      "sweep_claims",
      "replay_ambiguous",
      "repair_stalled",
      "sweep_transactional",
      "outbox",
      "prune_idempotency_keys",
    ];
    expect(Object.keys(summary ?? {})).toEqual(expect.arrayContaining(steps));
    for (const step of steps) expect(summary![step], step).not.toBe("failed");
    expect(await query(sql`SELECT 1 FROM idempotency_keys WHERE tenant_id = ${tenantId} AND key = ${key}`)).toEqual([]);
  });
});

describe("the deployed entrypoint", () => {
  it("serves HTTP through the worker's default export", async () => {
    const res = await worker.fetch(new Request("http://herald.test/health"), env, createExecutionContext());
    expect(res.status).toBe(200);
    expect(res.headers.get("x-request-id")).toBeTruthy();
    expect(await res.json()).toEqual({ status: "ok" });
  });
});
