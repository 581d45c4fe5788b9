import { createExecutionContext, createMessageBatch, createScheduledController, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { BREAKER_THRESHOLD } from "../durable-objects/provider-limiter";
import { limiterStub, progressStub } from "../src/services/durable-objects";
import type { SendMessage } from "../src/campaigns/queue-messages";
import worker from "../src/index";
import {
  audience,
  campaign,
  getCampaign,
  keptMessages,
  launch,
  progressOf,
  receivedBy,
  sinkProvider,
  tag,
  template,
  waitFor,
  post,
  done,
  query,
  expectEachOnce,
} from "./campaign-helpers";
import { call, expectProblem, newTenant } from "./helpers";

describe("sending a campaign end to end (real queues, Durable Objects and Postgres)", () => {
  it("mails each deliverable recipient exactly once, skips the undeliverable, and completes", async () => {
    const { apiKey, tenantId } = await newTenant();
    const t = tag();
    const a = await audience(apiKey, t, 250, [
      { email: `unsub.${t}@example.test`, status: "unsubscribed" },
      { email: `bounced.${t}@example.test`, status: "bounced" },
      { email: `suppressed.${t}@example.test` },
    ]);
    await query(sql`INSERT INTO suppressions (tenant_id, email, reason) VALUES (${tenantId}, ${`suppressed.${t}@example.test`}, 'manual')`);
    const id = await campaign(apiKey, {
      templateId: await template(apiKey),
      listIds: [a.listId],
      providerIds: [await sinkProvider(apiKey)],
    });

    const started = Date.now();
    const res = await launch(apiKey, id);
    expect(res.status).toBe(202);
    expect(Date.now() - started).toBeLessThan(2000);

    const final = await waitFor(apiKey, id, done);
    expect(final).toMatchObject({ state: "completed", counts: { total: 253, sent: 250, failed: 0, skipped: 3 } });
    expectEachOnce(await receivedBy(t), a.emails.slice(0, 250));
    expect(await progressOf(apiKey, id)).toMatchObject({ state: "completed", sent: 250, skipped: 3, queued: 0 });

    const skipped = (await (await call(`/v1/campaigns/${id}/messages?status=skipped`, { token: apiKey })).json()) as {
      data: { email: string }[];
    };
    expect(skipped.data.map((m) => m.email).sort()).toEqual([
      `bounced.${t}@example.test`,
      `suppressed.${t}@example.test`,
      `unsub.${t}@example.test`,
    ]);
    let pages = 0;
    let seen = 0;
    for (let cursor: string | null = ""; cursor !== null; pages++) {
      const page = (await (
        await call(`/v1/campaigns/${id}/messages?status=sent&limit=100${cursor ? `&cursor=${cursor}` : ""}`, { token: apiKey })
      ).json()) as {
        data: { status: string; provider_id: string }[];
        next_cursor: string | null;
      };
      seen += page.data.length;
      expect(page.data.every((m) => m.status === "sent" && m.provider_id)).toBe(true);
      cursor = page.next_cursor;
    }
    expect([seen, pages]).toEqual([250, 3]);
  });

  it("escapes merge values in HTML, keeps the raw form raw, and sets campaign headers", async () => {
    const { apiKey } = await newTenant();
    const t = tag();
    const email = `x+inspect.${t}@example.test`;
    const a = await audience(apiKey, t, 0, [{ email, name: `<script>alert("x")</script>`, attributes: { html: "<b>bold</b>" } }]);
    const tpl = await template(apiKey, {
      subject: "Hi {{name}}",
      html: "<p>{{name}}</p><div>{{{attributes.html}}}</div>",
      text: "Hi {{name}} {{campaign.promo}}",
    });
    const id = await campaign(apiKey, {
      templateId: tpl,
      listIds: [a.listId],
      providerIds: [await sinkProvider(apiKey)],
      data: { promo: "SALE" },
    });
    await launch(apiKey, id);
    await waitFor(apiKey, id, done);
    const [m] = await keptMessages(t);
    expect(m!.html).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
    expect(m!.html).not.toContain("<script>");
    expect(m!.html).toContain("<div><b>bold</b></div>");
    expect(m!.text).toBe(`Hi <script>alert("x")</script> SALE`);
    expect(m!.headers).toMatchObject({ "X-Herald-Campaign": id, "X-Herald-Message": m!.id });
  });

  it("pauses, resumes where it stopped, and cancels mid-send", async () => {
    const { apiKey } = await newTenant();
    const t = tag();
    const a = await audience(apiKey, t, 300);
    // 100 per second: the three batches of 100 leave a second apart, long enough to pause between.
    const provider = await sinkProvider(apiKey, { rate: 100 });
    const id = await campaign(apiKey, { templateId: await template(apiKey), listIds: [a.listId], providerIds: [provider] });
    await launch(apiKey, id);
    await waitFor(apiKey, id, (c) => c.counts.sent > 0);
    expect((await post(apiKey, id, "pause")).status).toBe(200);
    const atPause = Object.keys(await receivedBy(t)).length;
    expect(atPause).toBeLessThan(300);
    await new Promise((r) => setTimeout(r, 2500));
    // At most a batch already in flight lands after the pause.
    const afterWait = Object.keys(await receivedBy(t)).length;
    expect(afterWait - atPause).toBeLessThanOrEqual(100);
    expect((await getCampaign(apiKey, id)).state).toBe("paused");

    expect((await post(apiKey, id, "resume")).status).toBe(202);
    const final = await waitFor(apiKey, id, done, 30_000);
    expect(final).toMatchObject({ state: "completed", counts: { sent: 300, failed: 0 } });
    expectEachOnce(await receivedBy(t), a.emails);

    const t2 = tag();
    const b = await audience(apiKey, t2, 300);
    const id2 = await campaign(apiKey, {
      templateId: await template(apiKey),
      listIds: [b.listId],
      providerIds: [await sinkProvider(apiKey, { rate: 100 })],
    });
    await launch(apiKey, id2);
    await waitFor(apiKey, id2, (c) => c.counts.sent > 0);
    expect((await post(apiKey, id2, "cancel")).status).toBe(200);
    await new Promise((r) => setTimeout(r, 2500));
    const cancelled = await getCampaign(apiKey, id2);
    expect(cancelled.state).toBe("cancelled");
    expect(Object.keys(await receivedBy(t2)).length).toBeLessThan(300);
    expect(Object.values(await receivedBy(t2)).every((n) => n === 1)).toBe(true);
  });

  it("survives a provider failing mid-batch: claims are released and the retry sends each once", async () => {
    const { apiKey } = await newTenant();
    const t = tag();
    const a = await audience(apiKey, t, 150);
    const flaky = await sinkProvider(apiKey, { path: `/fail-first/1/500/${t}` });
    const id = await campaign(apiKey, { templateId: await template(apiKey), listIds: [a.listId], providerIds: [flaky] });
    await launch(apiKey, id);
    const final = await waitFor(apiKey, id, done, 30_000);
    expect(final).toMatchObject({ state: "completed", counts: { sent: 150, failed: 0 } });
    expectEachOnce(await receivedBy(t), a.emails);
    const retried = await query<{ n: number }>(sql`SELECT count(*)::int AS n FROM messages WHERE campaign_id = ${id} AND attempts = 2`);
    expect(retried[0]!.n).toBeGreaterThan(0);
  });

  it("records permanent per-recipient rejections as failed, not retried, and retry-failed sends only those", async () => {
    const { apiKey } = await newTenant();
    const t = tag();
    const a = await audience(apiKey, t, 20, [{ email: `reject1.${t}@example.test` }, { email: `reject2.${t}@example.test` }]);
    const id = await campaign(apiKey, {
      templateId: await template(apiKey),
      listIds: [a.listId],
      providerIds: [await sinkProvider(apiKey)],
    });
    await launch(apiKey, id);
    const final = await waitFor(apiKey, id, done);
    expect(final).toMatchObject({ state: "completed", counts: { sent: 20, failed: 2 } });
    const failed = (await (await call(`/v1/campaigns/${id}/messages?status=failed`, { token: apiKey })).json()) as {
      data: { error: string; attempts: number }[];
    };
    expect(failed.data).toHaveLength(2);
    expect(failed.data.every((m) => m.error === "recipient rejected" && m.attempts === 1)).toBe(true);

    const retry = await post(apiKey, id, "retry-failed");
    expect(retry.status).toBe(202);
    expect(await retry.json()).toMatchObject({ retrying: 2 });
    const again = await waitFor(apiKey, id, done);
    // The sink still rejects them; what matters is that only they were sent again.
    expect(again).toMatchObject({ state: "completed", counts: { sent: 20, failed: 2 } });
    const attempts = await query<{ email: string; attempts: number }>(
      sql`SELECT email, attempts FROM messages WHERE campaign_id = ${id} AND attempts > 1`,
    );
    expect(attempts.map((r) => r.email).sort()).toEqual([`reject1.${t}@example.test`, `reject2.${t}@example.test`]);
    expectEachOnce(await receivedBy(t), a.emails.slice(0, 20));
  });

  it("launches a scheduled campaign from the cron when it comes due", async () => {
    const { apiKey } = await newTenant();
    const t = tag();
    const a = await audience(apiKey, t, 3);
    const id = await campaign(apiKey, {
      templateId: await template(apiKey),
      listIds: [a.listId],
      providerIds: [await sinkProvider(apiKey)],
    });
    const at = new Date(Date.now() + 1000).toISOString();
    expect((await call(`/v1/campaigns/${id}/schedule`, { method: "POST", token: apiKey, json: { scheduled_at: at } })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1200));
    await worker.scheduled(createScheduledController({ cron: "* * * * *", scheduledTime: Date.now() }), env, createExecutionContext());
    const final = await waitFor(apiKey, id, done);
    expect(final).toMatchObject({ state: "completed", counts: { sent: 3 } });
  });

  it("streams progress over a WebSocket through the API", async () => {
    const { apiKey } = await newTenant();
    const t = tag();
    const a = await audience(apiKey, t, 2);
    const id = await campaign(apiKey, {
      templateId: await template(apiKey),
      listIds: [a.listId],
      providerIds: [await sinkProvider(apiKey)],
    });
    await launch(apiKey, id);
    const res = await call(`/v1/campaigns/${id}/progress/stream`, { token: apiKey, headers: { upgrade: "websocket" } });
    expect(res.status).toBe(101);
    const ws = res.webSocket!;
    const first = new Promise<{ campaign_id: string }>((resolve) =>
      ws.addEventListener("message", (e) => resolve(JSON.parse(e.data as string))),
    );
    ws.accept();
    expect((await first).campaign_id).toBe(id);
    ws.close(1000);
    await expectProblem(await call(`/v1/campaigns/${id}/progress/stream`, { token: apiKey }), 400, "bad_request");
  });
});

describe("send consumer edge cases (invoked directly)", () => {
  async function launchedCampaign(n: number, providerPaths: string[] = ["/"]) {
    const { apiKey, tenantId } = await newTenant();
    const t = tag();
    const a = await audience(apiKey, t, n);
    const providers: string[] = [];
    for (const path of providerPaths) providers.push(await sinkProvider(apiKey, { path }));
    const id = await campaign(apiKey, { templateId: await template(apiKey), listIds: [a.listId], providerIds: providers });
    // Put the campaign in `sending` as launch would, but queue no fan-out: the test delivers by hand.
    await query(sql`
      UPDATE campaigns c SET state = 'sending', started_at = now(), total = ${n},
        message_month = date_trunc('month', now() AT TIME ZONE 'UTC')::date,
        template_snapshot = (SELECT jsonb_build_object('id', t.id, 'version', t.version, 'subject', t.subject, 'html', t.html, 'text', t.text)
                             FROM templates t WHERE t.id = c.template_id)
      WHERE c.id = ${id}`);
    await progressStub(env, id).start({ tenantId, campaignId: id, total: n });
    const contacts = await query<{ id: string; email: string }>(
      sql`SELECT id, email FROM contacts WHERE tenant_id = ${tenantId} ORDER BY id`,
    );
    const [{ month }] = (await query<{ month: string }>(
      sql`SELECT to_char(message_month, 'YYYY-MM-DD') AS month FROM campaigns WHERE id = ${id}`,
    )) as [{ month: string }];
    const body: SendMessage = {
      type: "campaign_send",
      tenant_id: tenantId,
      campaign_id: id,
      month,
      recipients: contacts.map((c) => ({ c: c.id, e: c.email, n: null, a: {} })),
    };
    return { apiKey, id, t, body, providers, emails: a.emails };
  }

  async function deliver(queue: string, bodies: SendMessage[]) {
    const batch = createMessageBatch(
      queue,
      bodies.map((body, i) => ({ id: `m${i}`, timestamp: new Date(), attempts: 1, body })),
    );
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    return getQueueResult(batch, ctx);
  }

  it("the same message delivered twice mails each recipient once", async () => {
    const { body, t, emails } = await launchedCampaign(40);
    const first = await deliver("herald-send", [body, body]);
    expect(first.explicitAcks.sort()).toEqual(["m0", "m1"]);
    const second = await deliver("herald-send", [body]);
    expect(second.explicitAcks).toEqual(["m0"]);
    expectEachOnce(await receivedBy(t), emails);
  });

  it("a 429 from the provider retries the message with a delay and releases its claims", async () => {
    const { body, id, t } = await launchedCampaign(5, [`/status/429/${crypto.randomUUID()}`]);
    const result = await deliver("herald-send", [body]);
    expect(result.retryMessages.map((m) => m.msgId)).toEqual(["m0"]);
    const rows = await query<{ status: string }>(sql`SELECT status FROM messages WHERE campaign_id = ${id}`);
    expect(rows.length).toBe(5);
    expect(rows.every((r) => r.status === "retrying")).toBe(true);
    expect(Object.keys(await receivedBy(t))).toEqual([]);
  });

  it("fails over to the next provider when the first one's breaker is open", async () => {
    const { body, providers, t, emails, id } = await launchedCampaign(10, [`/status/500/${crypto.randomUUID()}`, "/"]);
    const first = limiterStub(env, providers[0]!);
    for (let i = 0; i < BREAKER_THRESHOLD; i++) await first.reportResult(false);
    expect((await first.snapshot()).breaker).toBe("open");
    const result = await deliver("herald-send", [body]);
    expect(result.explicitAcks).toEqual(["m0"]);
    expectEachOnce(await receivedBy(t), emails);
    const used = await query<{ provider_id: string }>(sql`SELECT DISTINCT provider_id FROM messages WHERE campaign_id = ${id}`);
    expect(used.map((r) => r.provider_id)).toEqual([providers[1]]);
  });

  it("a 5xx counts toward the breaker, which opens after repeated failures", async () => {
    const { body, providers } = await launchedCampaign(3, [`/status/503/${crypto.randomUUID()}`]);
    for (let i = 0; i < BREAKER_THRESHOLD; i++) {
      const r = await deliver("herald-send", [body]);
      expect(r.retryMessages).toHaveLength(1);
    }
    expect((await limiterStub(env, providers[0]!).snapshot()).breaker).toBe("open");
    // With the breaker open the message waits: it is queued again as a new message (so waiting
    // does not use up its retries) and this delivery is acked.
    const refused = await deliver("herald-send", [body]);
    expect(refused.retryMessages).toEqual([]);
    expect(refused.explicitAcks).toEqual(["m0"]);
  });

  it("the dead-letter consumer marks every unfinished recipient failed so the campaign still ends", async () => {
    const { body, id, apiKey } = await launchedCampaign(7);
    const result = await deliver("herald-send-dlq", [body]);
    expect(result.explicitAcks).toEqual(["m0"]);
    const final = await waitFor(apiKey, id, done);
    expect(final).toMatchObject({ state: "failed", counts: { failed: 7, sent: 0 } });
    // retry-failed picks them up again and this time they go out.
    expect((await post(apiKey, id, "retry-failed")).status).toBe(202);
    const again = await waitFor(apiKey, id, done);
    expect(again).toMatchObject({ state: "completed", counts: { sent: 7, failed: 0 } });
  });

  it("sends nothing for a paused campaign", async () => {
    const { body, id, t } = await launchedCampaign(4);
    await query(sql`UPDATE campaigns SET state = 'paused' WHERE id = ${id}`);
    const result = await deliver("herald-send", [body]);
    expect(result.explicitAcks).toEqual(["m0"]);
    expect(Object.keys(await receivedBy(t))).toEqual([]);
    expect((await query(sql`SELECT 1 FROM messages WHERE campaign_id = ${id}`)).length).toBe(0);
  });
});

describe("repairs", () => {
  it("the cron recounts a stalled campaign from the message log and completes it", async () => {
    const { apiKey, tenantId } = await newTenant();
    const t = tag();
    const a = await audience(apiKey, t, 3);
    const id = await campaign(apiKey, {
      templateId: await template(apiKey),
      listIds: [a.listId],
      providerIds: [await sinkProvider(apiKey)],
    });
    await launch(apiKey, id);
    await waitFor(apiKey, id, done);
    // Simulate reports lost after their rows were committed: the campaign is stuck sending.
    await query(sql`UPDATE campaigns SET state = 'sending', updated_at = now() - interval '10 minutes' WHERE id = ${id}`);
    await progressStub(env, id).setCounts({ sent: 0, failed: 0, skipped: 0 });
    await progressStub(env, id).setState("sending");
    expect((await progressOf(apiKey, id)).queued).toBe(3);
    await worker.scheduled(createScheduledController({ cron: "* * * * *", scheduledTime: Date.now() }), env, createExecutionContext());
    const final = await waitFor(apiKey, id, done);
    expect(final).toMatchObject({ state: "completed", counts: { sent: 3 } });
    expect(tenantId).toBeTruthy();
  });

  it("the sweeper settles a claim handed to a provider as unknown, never resending, and sends a claim that never reached one", async () => {
    const { apiKey } = await newTenant();
    const t = tag();
    const a = await audience(apiKey, t, 3);
    const id = await campaign(apiKey, {
      templateId: await template(apiKey),
      listIds: [a.listId],
      providerIds: [await sinkProvider(apiKey)],
    });
    await launch(apiKey, id);
    await waitFor(apiKey, id, done);
    // Left by consumers that died 20 minutes ago: one after handing its recipient to the provider
    // (`sending`), one after claiming and before any provider call (`claimed`, and never sent).
    await query(sql`UPDATE campaigns SET state = 'sending', completed_at = NULL WHERE id = ${id}`);
    await query(
      sql`UPDATE messages SET status = 'sending', updated_at = now() - interval '20 minutes' WHERE campaign_id = ${id} AND email = ${a.emails[0]!}`,
    );
    await query(
      sql`UPDATE messages SET status = 'claimed', updated_at = now() - interval '20 minutes' WHERE campaign_id = ${id} AND email = ${a.emails[1]!}`,
    );
    await progressStub(env, id).setCounts({ sent: 1, failed: 0, skipped: 0 });
    await progressStub(env, id).setState("sending");
    await worker.scheduled(createScheduledController({ cron: "* * * * *", scheduledTime: Date.now() }), env, createExecutionContext());
    const [row] = await query<{ status: string; error: string }>(
      sql`SELECT status, error FROM messages WHERE campaign_id = ${id} AND email = ${a.emails[0]!}`,
    );
    expect(row).toMatchObject({ status: "unknown" });
    expect(row!.error).toMatch(/^outcome_unknown/);
    const final = await waitFor(apiKey, id, (c) => done(c) && c.counts.sent === 2);
    expect(final).toMatchObject({ state: "completed", counts: { sent: 2, unknown: 1, failed: 0 } });
    // The released claim was sent a second time (its first claim never reached the sink); the
    // unknown one was not: it may have been delivered.
    expect(await receivedBy(t)).toEqual({ [a.emails[0]!]: 1, [a.emails[1]!]: 2, [a.emails[2]!]: 1 });
    // retry-failed leaves unknown recipients alone unless asked to risk a duplicate.
    await expectProblem(await post(apiKey, id, "retry-failed"), 409, "conflict");
    expect((await post(apiKey, id, "retry-failed?include_unknown=true")).status).toBe(202);
    const again = await waitFor(apiKey, id, (c) => done(c) && c.counts.unknown === 0);
    expect(again).toMatchObject({ state: "completed", counts: { sent: 3, unknown: 0 } });
    expect((await receivedBy(t))[a.emails[0]!]).toBe(2);
  });
});
