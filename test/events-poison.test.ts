// A poison event (one the database or a side effect rejects) is isolated: its batch-mates are
// stored and acked, only it is retried. Text PostgreSQL cannot take (lone surrogates) is repaired
// rather than failing the event. Driven through the worker's real queue export.
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import { newTenant, withDb } from "./helpers";

const msg = (id: string, body: unknown, attempts = 1) => ({ id, timestamp: new Date(), attempts, body });

function event(tenantId: string, overrides: Record<string, unknown> = {}) {
  return {
    type: "event",
    tenant_id: tenantId,
    event: {
      type: "opened",
      source: "tracking",
      provider_event_id: crypto.randomUUID(),
      occurred_at: new Date().toISOString(),
      ...overrides,
    },
  };
}

async function run(messages: ReturnType<typeof msg>[]) {
  const batch = createMessageBatch("herald-events", messages);
  const ctx = createExecutionContext();
  await worker.queue(batch, env, ctx);
  return getQueueResult(batch, ctx);
}

type StoredRow = {
  provider_event_id: string;
  email: string | null;
  url: string | null;
  data: Record<string, unknown>;
};

const storedFor = (tenantId: string) =>
  withDb(
    async (db) =>
      (await db.execute<StoredRow>(sql`SELECT provider_event_id, email, url, data FROM events WHERE tenant_id = ${tenantId}`)).rows,
  );

describe("events consumer: poison messages", () => {
  it("stores and acks the good events of a group, and retries only the one that cannot be stored", async () => {
    const { tenantId } = await newTenant();
    const other = await newTenant();
    const to = `gone.${crypto.randomUUID().slice(0, 8)}@example.test`;
    const good = [
      event(tenantId),
      event(tenantId, { type: "unsubscribed", source: "unsubscribe", email: to }),
      event(tenantId, { type: "clicked", url: "https://example.com/x", data: { ua: "test" } }),
    ];
    // Valid to the queue schema and to Date.parse, but PostgreSQL rejects a UTC offset past ±15:59,
    // so the INSERT of the whole group fails.
    const badOffset = event(tenantId, { occurred_at: "2025-06-01T00:00:00+23:59" });
    // Queues carry structured clones, so a BigInt can arrive; JSON cannot encode it (throws in JS).
    const badValue = event(tenantId, { data: { n: 10n } });
    const result = await run([
      msg("good-1", good[0]),
      msg("bad-offset", badOffset, 2),
      msg("good-2", good[1]),
      msg("bad-value", badValue),
      msg("good-3", good[2]),
      msg("other-tenant", event(other.tenantId)),
    ]);

    expect(result.explicitAcks.sort()).toEqual(["good-1", "good-2", "good-3", "other-tenant"]);
    expect(result.retryMessages.map((r) => r.msgId).sort()).toEqual(["bad-offset", "bad-value"]);
    expect(result.retryBatch.retry).toBe(false);
    expect(result.outcome).toBe("ok");

    const rows = await storedFor(tenantId);
    expect(rows.map((r) => r.provider_event_id).sort()).toEqual(good.map((g) => g.event.provider_event_id).sort());
    expect((await storedFor(other.tenantId)).length).toBe(1);
    // Stored one by one, each event still has its side effects: the unsubscribe suppresses.
    const suppressed = await withDb(
      async (db) =>
        (await db.execute<{ reason: string }>(sql`SELECT reason FROM suppressions WHERE tenant_id = ${tenantId} AND email = ${to}`)).rows,
    );
    expect(suppressed).toEqual([{ reason: "unsubscribe" }]);

    // Redelivered, the good events are duplicates (acked, stored once) and the poison fails alone.
    const again = await run([msg("good-1", good[0], 2), msg("bad-offset", badOffset, 3)]);
    expect(again.explicitAcks).toEqual(["good-1"]);
    expect(again.retryMessages.map((r) => r.msgId)).toEqual(["bad-offset"]);
    expect(await storedFor(tenantId)).toHaveLength(3);
  });

  it("stores lone surrogates in email, url and data (keys and values) as U+FFFD, and clips long data text", async () => {
    const { tenantId } = await newTenant();
    const long = "😀".repeat(5000);
    const body = event(tenantId, {
      type: "bounced",
      source: "resend",
      email: "Lone\uD800@Example.test",
      url: "https://example.com/\uDC00",
      data: { reason: "bad \uD800 text", "key\uDFFF": ["x\uD800", { deep: "\uDBFFy" }], long, n: 7, ok: true },
    });
    const result = await run([msg("surrogates", body)]);
    expect(result.explicitAcks).toEqual(["surrogates"]);
    expect(result.retryMessages).toEqual([]);

    const [row] = await storedFor(tenantId);
    expect(row!.email).toBe("lone\uFFFD@example.test");
    expect(row!.url).toBe("https://example.com/\uFFFD");
    expect(row!.data).toMatchObject({ reason: "bad \uFFFD text", "key\uFFFD": ["x\uFFFD", { deep: "\uFFFDy" }], n: 7, ok: true });
    // Clipped to 4096 code points, ending in an ellipsis, never splitting a surrogate pair.
    const clipped = row!.data.long as string;
    expect(Array.from(clipped)).toHaveLength(4096);
    expect(clipped).toBe(`${"😀".repeat(4095)}…`);
  });
});
