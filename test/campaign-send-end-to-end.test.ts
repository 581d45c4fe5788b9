// A campaign sent end to end through the real queues, Durable Objects and Postgres: delivery,
// rendering, pause, resume and cancel, a flaky provider, per-recipient rejections, the schedule and
// the live progress stream.
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import {
  audience,
  campaign,
  cronTick,
  done,
  expectEachOnce,
  getCampaign,
  keptMessages,
  launch,
  post,
  progressOf,
  query,
  receivedBy,
  sinkCampaign,
  sinkProvider,
  tag,
  template,
  waitFor,
} from "./campaign-helpers";
import { call, expectProblem, newTenant } from "./helpers";

describe("sending a campaign end to end (real queues, Durable Objects and Postgres)", () => {
  it("mails each deliverable recipient exactly once, skips the undeliverable, and completes", async () => {
    const { apiKey, tenantId, t, a, id } = await sinkCampaign(250, (t) => [
      { email: `unsub.${t}@example.test`, status: "unsubscribed" },
      { email: `bounced.${t}@example.test`, status: "bounced" },
      { email: `suppressed.${t}@example.test` },
    ]);
    await query(sql`INSERT INTO suppressions (tenant_id, email, reason) VALUES (${tenantId}, ${`suppressed.${t}@example.test`}, 'manual')`);

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
    // 100 per second: the three batches of 100 leave a second apart, long enough to pause between.
    const { apiKey, t, a, id } = await sinkCampaign(300, undefined, [{ rate: 100 }]);
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
    const { apiKey, t, a, id } = await sinkCampaign(20, (t) => [
      { email: `reject1.${t}@example.test` },
      { email: `reject2.${t}@example.test` },
    ]);
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
    const { apiKey, id } = await sinkCampaign(3);
    const at = new Date(Date.now() + 60_000).toISOString();
    expect((await call(`/v1/campaigns/${id}/schedule`, { method: "POST", token: apiKey, json: { scheduled_at: at } })).status).toBe(200);
    // Not due yet: a tick leaves it scheduled.
    await cronTick();
    expect((await getCampaign(apiKey, id)).state).toBe("scheduled");
    // The minute passes (moved in the row instead of waited for), and the next tick launches it.
    await query(sql`UPDATE campaigns SET scheduled_at = now() - interval '1 second' WHERE id = ${id}`);
    await cronTick();
    const final = await waitFor(apiKey, id, done);
    expect(final).toMatchObject({ state: "completed", counts: { sent: 3 } });
  });

  it("streams progress over a WebSocket through the API", async () => {
    const { apiKey, id } = await sinkCampaign(2);
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
