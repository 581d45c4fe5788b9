// Liveness of the campaign pipeline: a campaign always makes progress or ends with a reason, and
// no tenant's campaign can hold up another's. The send consumer and the cron are invoked directly
// (real Postgres, Durable Objects and provider stand-ins), so each case is deterministic.
import { env } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { afterEach, describe, expect, it, vi } from "vitest";
import { MAX_LAUNCH_ATTEMPTS } from "../src/campaigns/maintenance";
import { PROVIDER_CALL_BUDGET } from "../queues/send";
import {
  audience,
  campaign,
  cronTick,
  deliverSends,
  expectEachOnce,
  getCampaign,
  largeAudience,
  launch,
  query,
  receivedBy,
  sendingByHand,
  sinkProvider,
  tag,
  template,
  waitFor,
} from "./campaign-helpers";
import { waitForEmail } from "./email-helpers";
import { call, newTenant } from "./helpers";

const post = (apiKey: string, path: string, json?: unknown) => call(path, { method: "POST", token: apiKey, json });
const done = (c: { state: string }) => !["sending", "draft", "scheduled"].includes(c.state);

/** A tenant with `n` contacts and a campaign through `provider`, put in `sending` by hand. */
async function handDriven(n: number, provider: (apiKey: string) => Promise<string>) {
  const { apiKey, tenantId } = await newTenant();
  const t = tag();
  const a = await audience(apiKey, t, n);
  const providerId = await provider(apiKey);
  const id = await campaign(apiKey, { templateId: await template(apiKey), listIds: [a.listId], providerIds: [providerId] });
  const bodies = await sendingByHand(tenantId, id);
  return { apiKey, tenantId, t, id, providerId, bodies, emails: a.emails };
}

async function campaignRow(id: string) {
  const [row] = await query<{ state: string; blocked_since: string | null; launch_attempts: number; failure_reason: string | null }>(
    sql`SELECT state, blocked_since::text, launch_attempts, failure_reason FROM campaigns WHERE id = ${id}`,
  );
  return row!;
}

async function failureReason(apiKey: string, id: string): Promise<string | null> {
  const res = await call(`/v1/campaigns/${id}`, { token: apiKey });
  expect(res.status).toBe(200);
  return ((await res.json()) as { failure_reason: string | null }).failure_reason;
}

async function disable(apiKey: string, providerId: string) {
  const res = await call(`/v1/providers/${providerId}`, { method: "PATCH", token: apiKey, json: { enabled: false } });
  expect(res.status, await res.text()).toBe(200);
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("waiting ends: in mail sent, in a cancel, or in a failure with the reason", () => {
  it("a daily quota smaller than one message sends part of it now and the rest later", async () => {
    const s = await handDriven(50, (k) => sinkProvider(k, { quota: 30 }));
    expect(s.bodies).toHaveLength(1);
    const { result, requeued } = await deliverSends(s.bodies);
    expect(result.explicitAcks).toEqual(["m0"]);
    expect(result.retryMessages).toEqual([]);
    const now = s.bodies[0]!.recipients.slice(0, 30).map((r) => r.e);
    expectEachOnce(await receivedBy(s.t), now);
    // The other 20 wait for tomorrow's quota as a new message, not as a retry of this one.
    expect(requeued).toHaveLength(1);
    expect(requeued[0]!.body).toMatchObject({ campaign_id: s.id, tenant_id: s.tenantId });
    expect(requeued[0]!.body.recipients.map((r) => r.e)).toEqual(s.bodies[0]!.recipients.slice(30).map((r) => r.e));
    expect(requeued[0]!.delaySeconds).toBeGreaterThan(0);
    expect(await query(sql`SELECT 1 FROM messages WHERE campaign_id = ${s.id} AND status = 'sent'`)).toHaveLength(30);
    expect((await post(s.apiKey, `/v1/campaigns/${s.id}/cancel`)).status).toBe(200);
  });

  it("a campaign with no enabled provider waits, then cancel drops its messages at once", async () => {
    const s = await handDriven(5, (k) => sinkProvider(k));
    await disable(s.apiKey, s.providerId);
    const waiting = await deliverSends(s.bodies);
    expect(waiting.result.explicitAcks).toEqual(["m0"]);
    expect(waiting.result.retryMessages).toEqual([]);
    expect(waiting.requeued).toHaveLength(1);
    expect(waiting.requeued[0]!.body).toEqual(s.bodies[0]);
    expect(waiting.requeued[0]!.delaySeconds).toBeGreaterThan(0);
    expect(await campaignRow(s.id)).toMatchObject({ state: "sending", blocked_since: expect.any(String) });
    expect(await receivedBy(s.t)).toEqual({});

    expect((await post(s.apiKey, `/v1/campaigns/${s.id}/cancel`)).status).toBe(200);
    const cancelled = await deliverSends(s.bodies);
    expect(cancelled.result.explicitAcks).toEqual(["m0"]);
    expect(cancelled.result.retryMessages).toEqual([]);
    expect(cancelled.requeued).toEqual([]);
    expect(await receivedBy(s.t)).toEqual({});
  });

  it("a campaign with no usable provider for longer than the bound fails with the reason", async () => {
    const s = await handDriven(5, (k) => sinkProvider(k));
    await disable(s.apiKey, s.providerId);
    // Blocked for two hours already; the bound (BLOCKED_CAMPAIGN_TIMEOUT_SECONDS) is an hour.
    await query(sql`UPDATE campaigns SET blocked_since = now() - interval '2 hours' WHERE id = ${s.id}`);
    const { result, requeued } = await deliverSends(s.bodies);
    expect(result.explicitAcks).toEqual(["m0"]);
    expect(result.retryMessages).toEqual([]);
    expect(requeued).toEqual([]);
    expect((await getCampaign(s.apiKey, s.id)).state).toBe("failed");
    expect(await failureReason(s.apiKey, s.id)).toMatch(/no enabled provider/);
    expect(await receivedBy(s.t)).toEqual({});
  });
});

describe("the cron", () => {
  it("scheduled launches are fair between tenants, and a launch that keeps failing fails the campaign", async () => {
    const a = await newTenant();
    const b = await newTenant();
    const schedule = async (apiKey: string, id: string) => {
      const res = await post(apiKey, `/v1/campaigns/${id}/schedule`, { scheduled_at: new Date(Date.now() + 3_600_000).toISOString() });
      expect(res.status, await res.text()).toBe(200);
    };
    const aList = await audience(a.apiKey, tag(), 1);
    const aTemplate = await template(a.apiKey);
    const aProvider = await sinkProvider(a.apiKey);
    const broken: string[] = [];
    for (let i = 0; i < 8; i++) {
      const id = await campaign(a.apiKey, { templateId: aTemplate, listIds: [aList.listId], providerIds: [aProvider] });
      await schedule(a.apiKey, id);
      broken.push(id);
    }
    expect((await call(`/v1/templates/${aTemplate}`, { method: "DELETE", token: a.apiKey })).status).toBe(204);
    const bt = tag();
    const bList = await audience(b.apiKey, bt, 2);
    const good = await campaign(b.apiKey, {
      templateId: await template(b.apiKey),
      listIds: [bList.listId],
      providerIds: [await sinkProvider(b.apiKey)],
    });
    await schedule(b.apiKey, good);
    // A's eight came due hours ago, in order; B's a minute ago.
    for (const [i, id] of broken.entries())
      await query(sql`UPDATE campaigns SET scheduled_at = now() - interval '3 hours' + ${i} * interval '1 minute' WHERE id = ${id}`);
    await query(sql`UPDATE campaigns SET scheduled_at = now() - interval '1 minute' WHERE id = ${good}`);
    const attempts = async () =>
      (
        await query<{ n: number }>(
          sql`SELECT launch_attempts AS n FROM campaigns WHERE id = ANY(${`{${broken.join(",")}}`}::uuid[]) ORDER BY scheduled_at`,
        )
      ).map((r) => r.n);

    // Other test files fire the cron too, against the same database: a tick of theirs may count an
    // extra attempt, so counts are "at least" until the campaigns have failed (then they stop).
    await cronTick();
    expect(["sending", "completed"]).toContain((await getCampaign(b.apiKey, good)).state);
    // At most five of a tenant's campaigns per tick: A's five oldest were tried (once, run alone), the rest not yet.
    const first = await attempts();
    expect(first.slice(0, 5).every((n) => n >= 1)).toBe(true);
    expect(first.slice(5)).toEqual([0, 0, 0]);
    for (const id of broken) expect((await campaignRow(id)).state).toBe("scheduled");
    expect(await waitFor(b.apiKey, good, done)).toMatchObject({ state: "completed", counts: { sent: 2 } });
    expectEachOnce(await receivedBy(bt), bList.emails);

    for (let tick = 2; tick <= MAX_LAUNCH_ATTEMPTS; tick++) await cronTick();
    for (const id of broken.slice(0, 5)) {
      expect(await campaignRow(id)).toMatchObject({ state: "failed", launch_attempts: MAX_LAUNCH_ATTEMPTS });
      expect(await failureReason(a.apiKey, id)).toMatch(new RegExp(`scheduled launch failed ${MAX_LAUNCH_ATTEMPTS} times: .*template`));
    }
    expect(await attempts()).toEqual([5, 5, 5, 5, 5, 0, 0, 0]);
    // With those out of the way, the next ones get their turn.
    await cronTick();
    expect((await attempts()).slice(5).every((n) => n >= 1)).toBe(true);
    for (const id of broken.slice(5)) expect((await campaignRow(id)).state).toBe("scheduled");
  });

  it("one failing cron step does not stop the others", async () => {
    const { apiKey, tenantId } = await newTenant();
    await sinkProvider(apiKey);
    const accepted = await post(apiKey, "/v1/emails", {
      from: "app@example.test",
      to: `due.${tag()}@example.test`,
      subject: "s",
      text: "t",
      scheduled_at: new Date(Date.now() + 3_600_000).toISOString(),
    });
    expect(accepted.status, await accepted.clone().text()).toBe(202);
    const { id: email } = (await accepted.json()) as { id: string };
    // The outbox step has work (a scheduled email now due) and its queue is down, so it throws; the
    // step after it, pruning idempotency keys, has work too (a key 26 hours old).
    await query(sql`UPDATE emails SET scheduled_at = now() - interval '1 second' WHERE id = ${email}`);
    const key = `old-${tag()}`;
    await query(sql`
      INSERT INTO idempotency_keys (tenant_id, key, request_hash, response_status, response_body, created_at)
      VALUES (${tenantId}, ${key}, 'x', 202, '{}'::jsonb, now() - interval '26 hours')`);
    const down = () => Promise.reject(new Error("queue down"));
    const lines: Record<string, unknown>[] = [];
    vi.spyOn(console, "log").mockImplementation(
      (line: unknown) => void lines.push(typeof line === "string" && line.startsWith("{") ? JSON.parse(line) : { line }),
    );

    // LOG_LEVEL info: the tick's summary line is an info line.
    await cronTick({ LOG_LEVEL: "info", TRANSACTIONAL_QUEUE: { send: down, sendBatch: down } as unknown as Env["TRANSACTIONAL_QUEUE"] });
    vi.restoreAllMocks();
    expect(lines).toContainEqual(expect.objectContaining({ msg: "cron step failed", step: "outbox" }));
    expect(lines.find((l) => l.msg === "cron tick")).toMatchObject({ outbox: "failed", prune_idempotency_keys: "ok" });
    // The step after the failed one did its work.
    expect(await query(sql`SELECT 1 FROM idempotency_keys WHERE tenant_id = ${tenantId} AND key = ${key}`)).toEqual([]);
    // Its queue message was lost: a tick with the queue back, once the outbox's wait is over, queues
    // the email again and the real consumer sends it.
    await query(sql`UPDATE emails SET enqueued_at = now() - interval '10 minutes' WHERE id = ${email}`);
    await cronTick();
    expect(await waitForEmail(apiKey, email, (e) => e.status === "sent")).toMatchObject({ status: "sent" });
  });
});

describe("fairness and bounds of the send path", () => {
  // Needs CAMPAIGN_IN_FLIGHT_CAP = "2000" in vitest.config.ts's bindings: with pages of 5,000 the
  // default cap (50,000) admits all three of A's pages at once. A's provider sends 800 a second
  // (1,000 less the transactional share), so its third page waits several seconds for admission.
  it("a small campaign launched while a large one is sending finishes first", { timeout: 180_000 }, async () => {
    const a = await newTenant();
    const b = await newTenant();
    const at = tag();
    const big = await largeAudience(a.apiKey, at, 15_000);
    const large = await campaign(a.apiKey, {
      templateId: await template(a.apiKey),
      listIds: [big.listId],
      providerIds: [await sinkProvider(a.apiKey, { rate: 1000 })],
    });
    const bt = tag();
    const few = await audience(b.apiKey, bt, 10);
    const small = await campaign(b.apiKey, {
      templateId: await template(b.apiKey),
      listIds: [few.listId],
      providerIds: [await sinkProvider(b.apiKey)],
    });

    expect((await launch(a.apiKey, large)).status).toBe(202);
    expect((await launch(b.apiKey, small)).status).toBe(202);
    expect(await waitFor(b.apiKey, small, done, 30_000)).toMatchObject({ state: "completed", counts: { sent: 10 } });
    expect((await getCampaign(a.apiKey, large)).state).toBe("sending");
    // A's audience was planned into pages, and some are not admitted yet: its in-flight cap holds them back.
    const pages = await query<{ state: string }>(sql`SELECT state FROM campaign_pages WHERE campaign_id = ${large} ORDER BY seq`);
    expect(pages).toHaveLength(3);
    expect(pages.filter((p) => p.state === "planned").length).toBeGreaterThan(0);
    expectEachOnce(await receivedBy(bt), few.emails);

    expect(await waitFor(a.apiKey, large, done, 120_000)).toMatchObject({ state: "completed", counts: { sent: 15_000, failed: 0 } });
    expectEachOnce(await receivedBy(at), big.emails);
  });

  it("an invocation's provider calls stay within the subrequest budget", { timeout: 180_000 }, async () => {
    const stubs = JSON.parse((env as Env & { TEST_PROVIDER_STUBS: string }).TEST_PROVIDER_STUBS) as {
      control: string;
      mailgun: { baseUrl: string; apiKey: string; domain: string };
    };
    // Mailgun is called once per recipient.
    const mailgun = async (apiKey: string) => {
      const res = await post(apiKey, "/v1/providers", {
        name: "mailgun",
        kind: "mailgun",
        config: { domain: stubs.mailgun.domain, base_url: stubs.mailgun.baseUrl },
        credentials: { api_key: stubs.mailgun.apiKey },
        rate_per_second: 100_000,
      });
      expect(res.status, await res.clone().text()).toBe(201);
      return ((await res.json()) as { id: string }).id;
    };
    const s = await handDriven(6000, mailgun);
    expect(s.bodies).toHaveLength(60);
    const { result, requeued } = await deliverSends(s.bodies);
    expect(result.retryMessages).toEqual([]);
    expect(result.explicitAcks).toHaveLength(60);

    // The requests the stand-in received during that one invocation: within the budget, and its whole.
    const { count } = (await (await fetch(`${stubs.control}/_requests?to=${encodeURIComponent(s.t)}`)).json()) as { count: number };
    expect(count).toBeLessThanOrEqual(PROVIDER_CALL_BUDGET);
    expect(count).toBe(PROVIDER_CALL_BUDGET);
    const sent = await query<{ email: string }>(sql`SELECT email FROM messages WHERE campaign_id = ${s.id} AND status = 'sent'`);
    const other = await query(sql`SELECT 1 FROM messages WHERE campaign_id = ${s.id} AND status <> 'sent'`);
    expect(other).toEqual([]);
    expect(sent.length).toBe(count);
    // The messages beyond the budget went back to the queue whole, for another invocation: none lost.
    expect(requeued).toHaveLength(10);
    const later = requeued.flatMap((r) => r.body.recipients.map((x) => x.e));
    expect([...sent.map((r) => r.email), ...later].sort()).toEqual([...s.emails].sort());
    expect(
      requeued.every((r) => r.body.recipients.length === 100 && s.bodies.some((b) => b.recipients[0]!.c === r.body.recipients[0]!.c)),
    ).toBe(true);
    expect((await post(s.apiKey, `/v1/campaigns/${s.id}/cancel`)).status).toBe(200);
  });
});
