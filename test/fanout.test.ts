import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { MAX_REPLANS } from "../queues/dead-letters";
import { type FanoutMessage, rangeMessage } from "../src/campaigns/queue-messages";
import { progressStub } from "../src/services/durable-objects";
import { planPages } from "../src/campaigns/store/fanout-rows";
import worker from "../src/index";
import { audience, campaign, receivedBy, sinkProvider, tag, template, waitFor } from "./campaign-helpers";
import { call, newTenant, withDb } from "./helpers";

const done = (c: { state: string }) => !["sending", "draft", "scheduled"].includes(c.state);

function query<T extends Record<string, unknown>>(q: ReturnType<typeof sql>): Promise<T[]> {
  return withDb(async (db) => (await db.execute<T>(q)).rows as T[]);
}

/** A campaign put in `sending` as launch leaves it, with no fan-out queued: the test drives fan-out by hand. */
async function sendingCampaign(n: number) {
  const { apiKey, tenantId } = await newTenant();
  const t = tag();
  const a = await audience(apiKey, t, n);
  const id = await campaign(apiKey, { templateId: await template(apiKey), listIds: [a.listId], providerIds: [await sinkProvider(apiKey)] });
  await markSending(id);
  await progressStub(env, id).start({ tenantId, campaignId: id, total: n });
  return { apiKey, tenantId, id, t, emails: a.emails };
}

async function markSending(id: string) {
  await query(sql`
    UPDATE campaigns c SET state = 'sending', started_at = now(),
      message_month = date_trunc('month', now() AT TIME ZONE 'UTC')::date,
      template_snapshot = (SELECT jsonb_build_object('id', t.id, 'version', t.version, 'subject', t.subject, 'html', t.html, 'text', t.text)
                           FROM templates t WHERE t.id = c.template_id)
    WHERE c.id = ${id}`);
}

interface PageRow extends Record<string, unknown> {
  seq: number;
  after: string | null;
  until: string;
  expected: number;
  vanished: number;
  state: string;
  error: string | null;
}

const pagesOf = (id: string) =>
  query<PageRow>(
    sql`SELECT seq, after, until, expected, vanished, state, error FROM campaign_pages WHERE campaign_id = ${id} ORDER BY seq`,
  );

/** A fan-out queue that records what is sent to it instead of delivering it. */
function capturingQueue() {
  const sent: { body: FanoutMessage; delaySeconds?: number }[] = [];
  const queue = {
    async send(body: FanoutMessage, opts?: QueueSendOptions) {
      sent.push({ body, delaySeconds: opts?.delaySeconds });
    },
    async sendBatch(batch: Iterable<MessageSendRequest<FanoutMessage>>) {
      for (const m of batch) sent.push({ body: m.body, delaySeconds: m.delaySeconds });
    },
  };
  return { sent, queue: queue as unknown as Queue };
}

async function deliver(queue: string, bodies: FanoutMessage[], overrides: Partial<Env> = {}) {
  const batch = createMessageBatch(
    queue,
    bodies.map((body, i) => ({ id: `m${i}`, timestamp: new Date(), attempts: 1, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, { ...env, ...overrides } as Env, ctx);
  return getQueueResult(batch, ctx);
}

describe("fan-out pages", () => {
  it("a dead-lettered range is put back, then fails only its own page while the others are sent", async () => {
    const { apiKey, tenantId, id } = await sendingCampaign(30);
    const planned = await withDb((db) => planPages(db, tenantId, id, 10));
    expect(planned).toMatchObject({ total: 30 });
    const pages = await pagesOf(id);
    expect(pages.map((p) => [p.seq, p.expected, p.state])).toEqual([
      [0, 10, "planned"],
      [1, 10, "planned"],
      [2, 10, "planned"],
    ]);

    const expanded = await deliver("herald-fanout", [rangeMessage(tenantId, id, pages[0]!), rangeMessage(tenantId, id, pages[2]!)]);
    expect(expanded.explicitAcks.sort()).toEqual(["m0", "m1"]);

    // Each dead letter before the last puts the step back, later, and fails nothing.
    for (let replans = 0; replans < MAX_REPLANS; replans++) {
      const capture = capturingQueue();
      const dead = await deliver("herald-fanout-dlq", [rangeMessage(tenantId, id, pages[1]!, replans === 0 ? undefined : replans)], {
        FANOUT_QUEUE: capture.queue,
      });
      expect(dead.explicitAcks).toEqual(["m0"]);
      expect(capture.sent).toHaveLength(1);
      expect(capture.sent[0]!.body).toMatchObject({ mode: "range", seq: 1, until: pages[1]!.until, replans: replans + 1 });
      expect(capture.sent[0]!.delaySeconds).toBeGreaterThan(0);
      const [c] = await query<{ state: string }>(sql`SELECT state FROM campaigns WHERE id = ${id}`);
      expect(c!.state).not.toBe("failed");
    }

    const last = await deliver("herald-fanout-dlq", [rangeMessage(tenantId, id, pages[1]!, MAX_REPLANS)]);
    expect(last.explicitAcks).toEqual(["m0"]);
    const [failedPage] = (await pagesOf(id)).filter((p) => p.seq === 1);
    expect(failedPage).toMatchObject({ state: "failed" });
    expect(failedPage!.error).toBeTruthy();

    const final = await waitFor(apiKey, id, done);
    expect(final).toMatchObject({ state: "completed", counts: { total: 30, sent: 20, failed: 10 } });
    const [row] = await query<{ failure_reason: string | null }>(sql`SELECT failure_reason FROM campaigns WHERE id = ${id}`);
    expect(row!.failure_reason).toBeNull();
    const byPage = await query<{ seq: number; status: string; error: string | null }>(sql`
      SELECT p.seq, m.status, m.error FROM messages m
      JOIN campaign_pages p ON p.campaign_id = m.campaign_id
        AND m.contact_id > coalesce(p.after, '00000000-0000-0000-0000-000000000000'::uuid) AND m.contact_id <= p.until
      WHERE m.campaign_id = ${id}`);
    expect(byPage).toHaveLength(30);
    for (const m of byPage) {
      if (m.seq === 1) {
        expect(m.status).toBe("failed");
        expect(m.error).toMatch(/^could not be planned: /);
      } else {
        expect(m.status).toBe("sent");
      }
    }
  });

  it("the same range delivered again counts its vanished members once", async () => {
    const { apiKey, tenantId, id, t, emails } = await sendingCampaign(12);
    await withDb((db) => planPages(db, tenantId, id, 100));
    const [page] = await pagesOf(id);
    expect(page).toMatchObject({ seq: 0, expected: 12, state: "planned" });
    // Two members are deleted between the plan and their page.
    const gone = emails.slice(0, 2);
    await query(sql`DELETE FROM contacts WHERE tenant_id = ${tenantId} AND email IN (${gone[0]!}, ${gone[1]!})`);

    const message = rangeMessage(tenantId, id, page!);
    expect((await deliver("herald-fanout", [message, message])).explicitAcks.sort()).toEqual(["m0", "m1"]);
    expect((await deliver("herald-fanout", [message])).explicitAcks).toEqual(["m0"]);

    const [after] = await pagesOf(id);
    expect(after).toMatchObject({ state: "expanded", vanished: 2 });
    const snapshot = await progressStub(env, id).snapshot();
    expect(snapshot.skipped).toBe(2);

    const final = await waitFor(apiKey, id, done);
    expect(final).toMatchObject({ state: "completed", counts: { total: 12, sent: 10, failed: 0, skipped: 2 } });
    expect((await progressStub(env, id).snapshot()).skipped).toBe(2);
    const received = await receivedBy(t);
    expect(Object.keys(received).sort()).toEqual(emails.slice(2).sort());
    expect(Object.values(received).every((n) => n === 1)).toBe(true);
  });

  it("a plan delivered twice writes each page once", async () => {
    const { apiKey, tenantId } = await newTenant();
    const list = (await (await call("/v1/lists", { method: "POST", token: apiKey, json: { name: `big-${tag()}` } })).json()) as {
      id: string;
    };
    // Past one page of 5000: all but three unsubscribed, so nearly all of it is skipped, not mailed.
    await query(sql`
      WITH c AS (
        INSERT INTO contacts (id, tenant_id, email, status)
        SELECT gen_random_uuid(), ${tenantId}, 'big' || i || '@example.test', CASE WHEN i <= 3 THEN 'active' ELSE 'unsubscribed' END
        FROM generate_series(1, 5003) AS i
        RETURNING id
      )
      INSERT INTO list_members (tenant_id, list_id, contact_id) SELECT ${tenantId}, ${list.id}, id FROM c`);
    const id = await campaign(apiKey, {
      templateId: await template(apiKey),
      listIds: [list.id],
      providerIds: [await sinkProvider(apiKey)],
    });
    await markSending(id);
    await progressStub(env, id).start({ tenantId, campaignId: id, total: 5003 });

    const launch: FanoutMessage = { type: "campaign_fanout", tenant_id: tenantId, campaign_id: id, mode: "launch", cursor: null, seen: 0 };
    expect((await deliver("herald-fanout", [launch, launch])).explicitAcks.sort()).toEqual(["m0", "m1"]);
    expect((await deliver("herald-fanout", [launch])).explicitAcks).toEqual(["m0"]);

    const pages = await pagesOf(id);
    expect(pages.map((p) => [p.seq, p.expected])).toEqual([
      [0, 5000],
      [1, 3],
    ]);
    expect(pages[0]!.after).toBeNull();
    expect(pages[1]!.after).toBe(pages[0]!.until);
    const [row] = await query<{ total: number }>(sql`SELECT total FROM campaigns WHERE id = ${id}`);
    expect(row!.total).toBe(5003);

    const final = await waitFor(apiKey, id, done, 30_000);
    expect(final).toMatchObject({ state: "completed", counts: { total: 5003, sent: 3, skipped: 5000 } });
    const [count] = await query<{ n: number }>(sql`SELECT count(*)::int AS n FROM messages WHERE campaign_id = ${id}`);
    expect(count!.n).toBe(5003);
  });
});
