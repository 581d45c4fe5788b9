// The cron's transactional passes, run directly against real Postgres: scheduled emails coming
// due and queued emails whose queue message was lost are queued again; claims left by a consumer
// that died are settled as outcome_unknown, never re-sent.
import { env } from "cloudflare:workers";
import { and, eq, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { messages } from "../src/db/messages-table";
import { emails } from "../src/db/schema";
import { requeueDueEmails, sweepStaleTransactional } from "../src/emails/queue";
import { monthOfUuidv7 } from "../src/lib/ids";
import { sinkProvider, tag } from "./campaign-helpers";
import { getEmail, sleep } from "./email-helpers";
import { withDb, call, newTenant } from "./helpers";

/** Stands in for the transactional queue binding, recording what is sent. */
function recordingQueue() {
  const sent: { body: { email_id: string }; delaySeconds?: number }[] = [];
  const queue = {
    sendBatch: async (batch: Iterable<{ body: unknown; delaySeconds?: number }>) => void sent.push(...([...batch] as typeof sent)),
  };
  return { sent, queue: queue as unknown as Queue };
}

async function accepted(apiKey: string, json: Record<string, unknown>): Promise<string> {
  const res = await call("/v1/emails", {
    method: "POST",
    token: apiKey,
    json: { from: "app@example.test", to: `o.${tag()}@example.test`, subject: "s", text: "t", ...json },
  });
  expect(res.status, await res.clone().text()).toBe(202);
  return ((await res.json()) as { id: string }).id;
}

describe("the transactional outbox", () => {
  it("queues a scheduled email in the minute it comes due, with the rest of the wait as a delay", async () => {
    const { apiKey } = await newTenant();
    await sinkProvider(apiKey);
    const at = new Date(Date.now() + 3_600_000).toISOString();
    const id = await accepted(apiKey, { scheduled_at: at });
    const { sent, queue } = recordingQueue();
    await withDb(async (db) => {
      await db
        .update(emails)
        .set({ scheduledAt: new Date(Date.now() + 30_000) })
        .where(eq(emails.id, id));
      await requeueDueEmails(db, queue);
    });
    const mine = sent.filter((m) => m.body.email_id === id);
    expect(mine).toHaveLength(1);
    expect(mine[0]!.delaySeconds).toBeGreaterThan(20);
    expect(mine[0]!.delaySeconds).toBeLessThanOrEqual(30);
    expect(await getEmail(apiKey, id)).toMatchObject({ status: "queued" });
  });

  it("queues again an email whose queue message was lost", async () => {
    const { apiKey } = await newTenant();
    await sinkProvider(apiKey);
    // Accepted with a queue that fails: committed, but nothing was queued.
    const failing = {
      sendBatch: async () => {
        throw new Error("queue down");
      },
    } as unknown as Queue;
    const t = tag();
    const res = await call("/v1/emails", {
      method: "POST",
      token: apiKey,
      json: { from: "app@example.test", to: `lost.${t}@example.test`, subject: "s", text: "t" },
      env: { TRANSACTIONAL_QUEUE: failing },
    });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    await sleep(300);
    expect(await getEmail(apiKey, id)).toMatchObject({ status: "queued" });
    await withDb(async (db) => {
      await db
        .update(emails)
        .set({ enqueuedAt: new Date(Date.now() - 5 * 60_000) })
        .where(eq(emails.id, id));
      // The real queue this time: the consumer sends it.
      await requeueDueEmails(db, env.TRANSACTIONAL_QUEUE);
    });
    const until = Date.now() + 10_000;
    while ((await getEmail(apiKey, id)).status !== "sent" && Date.now() < until) await sleep(100);
    expect(await getEmail(apiKey, id)).toMatchObject({ status: "sent" });
  });

  it("settles claims whose sender died: unknown once handed to a provider, queued again if never, and copies an outcome already recorded", async () => {
    const { apiKey, tenantId } = await newTenant();
    await sinkProvider(apiKey);
    const dead = await accepted(apiKey, { scheduled_at: new Date(Date.now() + 3_600_000).toISOString() });
    const recorded = await accepted(apiKey, { scheduled_at: new Date(Date.now() + 3_600_000).toISOString() });
    const unsent = await accepted(apiKey, { scheduled_at: new Date(Date.now() + 3_600_000).toISOString() });
    const long = new Date(Date.now() - 20 * 60_000);
    await withDb(async (db) => {
      // As a consumer leaves them: the first handed to the provider (sending), the second recorded
      // `sent`, the third claimed but never handed to a provider.
      await db
        .update(emails)
        .set({ status: "sending", updatedAt: long })
        .where(and(eq(emails.tenantId, tenantId), sql`${emails.id} IN (${dead}, ${recorded}, ${unsent})`));
      await db
        .update(messages)
        .set({ status: "sending" })
        .where(and(eq(messages.month, monthOfUuidv7(dead)), eq(messages.id, dead)));
      await db
        .update(messages)
        .set({ status: "sent" })
        .where(and(eq(messages.month, monthOfUuidv7(recorded)), eq(messages.id, recorded)));
      await db
        .update(messages)
        .set({ status: "claimed" })
        .where(and(eq(messages.month, monthOfUuidv7(unsent)), eq(messages.id, unsent)));
      expect((await sweepStaleTransactional(db, 900)).length).toBeGreaterThanOrEqual(3);
      const [log] = await db
        .select()
        .from(messages)
        .where(and(eq(messages.month, monthOfUuidv7(dead)), eq(messages.id, dead)));
      expect(log).toMatchObject({ status: "unknown", error: expect.stringMatching(/^outcome_unknown/) });
      const [back] = await db
        .select()
        .from(messages)
        .where(and(eq(messages.month, monthOfUuidv7(unsent)), eq(messages.id, unsent)));
      expect(back).toMatchObject({ status: "retrying" });
    });
    // Maybe delivered: unknown, never re-sent. Never handed over: queued again for the outbox.
    expect(await getEmail(apiKey, dead)).toMatchObject({ status: "unknown" });
    expect(await getEmail(apiKey, recorded)).toMatchObject({ status: "sent" });
    expect(await getEmail(apiKey, unsent)).toMatchObject({ status: "queued" });
  });
});

describe("sending rules", () => {
  it("a disabled provider is refused on acceptance", async () => {
    const { apiKey } = await newTenant();
    const provider = await sinkProvider(apiKey);
    await sinkProvider(apiKey);
    expect((await call(`/v1/providers/${provider}`, { method: "PATCH", token: apiKey, json: { enabled: false } })).status).toBe(200);
    const res = await call("/v1/emails", {
      method: "POST",
      token: apiKey,
      json: { from: "app@example.test", to: "x@example.test", subject: "s", text: "t", provider_id: provider },
    });
    expect(res.status).toBe(422);
    expect(((await res.json()) as { errors: unknown[] }).errors).toEqual([
      { field: "body.provider_id", message: "this provider is disabled" },
    ]);
  });

  it("a display name that could hide recipients must be quoted", async () => {
    const { apiKey } = await newTenant();
    await sinkProvider(apiKey);
    const base = { from: "app@example.test", subject: "s", text: "t" };
    const hidden = await call("/v1/emails", {
      method: "POST",
      token: apiKey,
      json: { ...base, to: "victim@x.test, other@y.test <ok@z.test>" },
    });
    expect(hidden.status).toBe(422);
    const quoted = await call("/v1/emails", { method: "POST", token: apiKey, json: { ...base, to: '"Doe, Jane" <jane@example.test>' } });
    expect(quoted.status).toBe(202);
  });
});

describe("the ProviderLimiter's buckets", () => {
  it("a transactional email as large as the whole bucket fits once both buckets are full", async () => {
    const stub = env.PROVIDER_LIMITER.get(env.PROVIDER_LIMITER.idFromName(`unit:${crypto.randomUUID()}`));
    // 3 × 0.7 + 3 × 0.3 is 2.9999999999999996 in floating point.
    const lease = await stub.leaseBatch([3], { ratePerSecond: 3, dailyQuota: 0, reserveShare: 0.3 }, Date.now(), "transactional");
    expect(lease.grantedMessages).toBe(1);
  });
});
