import {
  createExecutionContext,
  createMessageBatch,
  createScheduledController,
  getQueueResult,
  runDurableObjectAlarm,
  runInDurableObject,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import type { CampaignProgress } from "../durable-objects/campaign-progress";
import type { SendMessage } from "../src/campaigns/queue-messages";
import { CRASH_POINTS, mulberry32, type CrashPoint } from "../src/lib/chaos";
import worker from "../src/index";
import {
  audience,
  campaign,
  done,
  launch,
  post,
  query,
  receivedBy,
  sendingByHand,
  SINK_URL,
  sinkProvider,
  tag,
  template,
  waitFor,
} from "./campaign-helpers";
import { call, expectProblem, newTenant } from "./helpers";
import { captured, stubs } from "./providers/helpers";
import { getEmail, waitForEmail } from "./email-helpers";

/** A sink provider whose answers follow `path` (see scripts/lib/sink-server.mjs), with its own timeout. */
async function faultyProvider(apiKey: string, path: string, timeoutMs = 10_000): Promise<string> {
  const res = await call("/v1/providers", {
    method: "POST",
    token: apiKey,
    json: {
      name: `faulty-${crypto.randomUUID().slice(0, 6)}`,
      kind: "sink",
      config: { url: new URL(path, SINK_URL).toString(), timeout_ms: timeoutMs },
      rate_per_second: 10_000,
    },
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

describe("ambiguous provider answers are never re-sent blindly", () => {
  for (const [what, path, timeoutMs] of [
    ["a connection reset after the sink accepted the batch", "/reset-after-accept/1", 10_000],
    ["an answer slower than the provider timeout", "/slow/1/3000", 500],
  ] as const) {
    it(`${what}: the recipients end unknown, are mailed once, and retry-failed needs include_unknown`, async () => {
      const { apiKey } = await newTenant();
      const t = tag();
      const a = await audience(apiKey, t, 5);
      const provider = await faultyProvider(apiKey, `${path}/${crypto.randomUUID()}`, timeoutMs);
      const id = await campaign(apiKey, { templateId: await template(apiKey), listIds: [a.listId], providerIds: [provider] });
      await launch(apiKey, id);
      const final = await waitFor(apiKey, id, done);
      expect(final).toMatchObject({ state: "completed", counts: { total: 5, sent: 0, failed: 0, unknown: 5 } });
      // The sink has each of them once; herald never sent the batch again.
      expect(await receivedBy(t)).toEqual(Object.fromEntries(a.emails.map((e) => [e, 1])));
      const listed = await call(`/v1/campaigns/${id}/messages?status=unknown`, { token: apiKey });
      const page = (await listed.json()) as { data: { status: string; error: string }[] };
      expect(page.data).toHaveLength(5);
      expect(page.data[0]!.error).toMatch(/^outcome_unknown/);
      expect(((await (await call(`/v1/campaigns/${id}/stats`, { token: apiKey })).json()) as { unknown: number }).unknown).toBe(5);
      // Unknown recipients are left alone unless the user accepts that they may get it twice.
      await expectProblem(await post(apiKey, id, "retry-failed"), 409, "conflict");
      expect((await post(apiKey, id, "retry-failed?include_unknown=true")).status).toBe(202);
      const again = await waitFor(apiKey, id, (c) => done(c) && c.counts.unknown === 0);
      expect(again).toMatchObject({ state: "completed", counts: { sent: 5, unknown: 0 } });
      expect(await receivedBy(t)).toEqual(Object.fromEntries(a.emails.map((e) => [e, 2])));
    });
  }

  it("a batch the sink refused with 503 is sent again, each recipient once", async () => {
    const { apiKey } = await newTenant();
    const t = tag();
    const a = await audience(apiKey, t, 4);
    const provider = await sinkProvider(apiKey, { path: `/fail-first/1/503/${crypto.randomUUID()}` });
    const id = await campaign(apiKey, { templateId: await template(apiKey), listIds: [a.listId], providerIds: [provider] });
    await launch(apiKey, id);
    expect(await waitFor(apiKey, id, done, 30_000)).toMatchObject({ state: "completed", counts: { sent: 4, unknown: 0 } });
    expect(await receivedBy(t)).toEqual(Object.fromEntries(a.emails.map((e) => [e, 1])));
  });
});

describe("the send consumer under injected faults", () => {
  async function sendingCampaign(n: number) {
    const { apiKey, tenantId } = await newTenant();
    const t = tag();
    const a = await audience(apiKey, t, n);
    const id = await campaign(apiKey, {
      templateId: await template(apiKey),
      listIds: [a.listId],
      providerIds: [await sinkProvider(apiKey)],
    });
    const [body] = await sendingByHand(tenantId, id);
    return { apiKey, id, t, body: body!, emails: a.emails };
  }

  async function deliver(body: SendMessage, id: string, overrides: Partial<Env> = {}) {
    const batch = createMessageBatch("herald-send", [{ id, timestamp: new Date(), attempts: 1, body }]);
    const ctx = createExecutionContext();
    await worker.queue(batch, { ...env, ...overrides }, ctx);
    return getQueueResult(batch, ctx);
  }

  /** A HERALD_CHAOS setting whose first send invocation crashes at `point` (seed found by search). */
  function crashAt(point: CrashPoint): Partial<Env> {
    for (let seed = 1; seed < 10_000; seed++) {
      const random = mulberry32(seed);
      random();
      if (CRASH_POINTS[Math.floor(random() * CRASH_POINTS.length)] === point) return { HERALD_CHAOS: JSON.stringify({ crash: 1, seed }) };
    }
    throw new Error("no seed");
  }

  const statuses = async (id: string) =>
    (await query<{ status: string }>(sql`SELECT status FROM messages WHERE campaign_id = ${id}`)).map((r) => r.status).sort();

  it("a crash after claiming gives the claims back, and the retry mails each recipient once", async () => {
    const { id, t, body, emails } = await sendingCampaign(6);
    const crashed = await deliver(body, "m-crash-claim", crashAt("after_claim"));
    expect(crashed.retryMessages.map((m) => m.msgId)).toEqual(["m-crash-claim"]);
    expect(await statuses(id)).toEqual(Array(6).fill("retrying"));
    expect(await receivedBy(t)).toEqual({});
    expect((await deliver(body, "m-crash-claim")).explicitAcks).toEqual(["m-crash-claim"]);
    expect(await receivedBy(t)).toEqual(Object.fromEntries(emails.map((e) => [e, 1])));
  });

  it("claims whose answer was lost are taken over by the same message's redelivery only", async () => {
    const { id, t, body, emails } = await sendingCampaign(4);
    // The claim committed but its answer never came back (a dropped connection): the rows are
    // `claimed` under the message that made them, and nothing was sent.
    const month = body.month;
    await query(sql`
      INSERT INTO messages (month, id, tenant_id, campaign_id, contact_id, email, status, claim_token)
      SELECT ${month}::date, gen_random_uuid(), ${body.tenant_id}, ${id}, r.c, r.e, 'claimed', 'm-owner'
      FROM jsonb_to_recordset(${JSON.stringify(body.recipients)}::jsonb) AS r(c uuid, e text)`);
    // Another message (a duplicate delivery) must not send them: they are someone else's claims.
    expect((await deliver(body, "m-other")).explicitAcks).toEqual(["m-other"]);
    expect(await receivedBy(t)).toEqual({});
    // The owner's redelivery takes them over and sends each once.
    expect((await deliver(body, "m-owner")).explicitAcks).toEqual(["m-owner"]);
    expect(await receivedBy(t)).toEqual(Object.fromEntries(emails.map((e) => [e, 1])));
    expect(await statuses(id)).toEqual(Array(4).fill("sent"));
  });

  for (const point of ["after_send", "while_recording"] as const) {
    it(`a crash ${point.replace("_", " ")} never sends again; the sweeper settles what was not recorded as unknown`, async () => {
      const { id, t, body, emails } = await sendingCampaign(5);
      const crashed = await deliver(body, `m-${point}`, crashAt(point));
      expect(crashed.retryMessages).toHaveLength(1);
      expect(await receivedBy(t)).toEqual(Object.fromEntries(emails.map((e) => [e, 1])));
      // The retry finds them handed to the provider (or recorded): nothing is sent again.
      expect((await deliver(body, `m-${point}`)).explicitAcks).toEqual([`m-${point}`]);
      expect(await receivedBy(t)).toEqual(Object.fromEntries(emails.map((e) => [e, 1])));
      await query(sql`UPDATE messages SET updated_at = now() - interval '1 hour' WHERE campaign_id = ${id} AND status = 'sending'`);
      await worker.scheduled(createScheduledController({ cron: "* * * * *", scheduledTime: Date.now() }), env, createExecutionContext());
      const after = await statuses(id);
      expect(after.every((s) => s === "sent" || s === "unknown")).toBe(true);
      if (point === "after_send") expect(after).toEqual(Array(5).fill("unknown"));
      expect(await receivedBy(t)).toEqual(Object.fromEntries(emails.map((e) => [e, 1])));
    });
  }
});

describe("counts come from Postgres", () => {
  it("a report delivered twice never completes a campaign early", async () => {
    const { apiKey, tenantId } = await newTenant();
    const t = tag();
    const a = await audience(apiKey, t, 3);
    const id = await campaign(apiKey, {
      templateId: await template(apiKey),
      listIds: [a.listId],
      providerIds: [await sinkProvider(apiKey)],
    });
    await query(sql`
      UPDATE campaigns SET state = 'sending', started_at = now(), total = 3, message_month = date_trunc('month', now() AT TIME ZONE 'UTC')::date WHERE id = ${id}`);
    // One recipient sent, two still being sent.
    await query(sql`
      INSERT INTO messages (month, id, tenant_id, campaign_id, contact_id, email, status)
      SELECT date_trunc('month', now() AT TIME ZONE 'UTC')::date, gen_random_uuid(), c.tenant_id, ${id}, c.id, c.email,
        CASE WHEN row_number() OVER (ORDER BY c.id) = 1 THEN 'sent' ELSE 'sending' END
      FROM contacts c WHERE c.tenant_id = ${tenantId}`);
    // The raw stub (progressStub wraps it for metrics), so the test can run its alarm.
    const stub = env.CAMPAIGN_PROGRESS.get(env.CAMPAIGN_PROGRESS.idFromName(`campaign:${id}`));
    await stub.start({ tenantId, campaignId: id, total: 3 });
    // The one report arrives twice, and a cron recount's figure is in flight too: the live view says 3 of 3.
    await stub.report({ sent: 1, failed: 0, skipped: 0 });
    await stub.report({ sent: 1, failed: 0, skipped: 0 });
    await stub.report({ sent: 1, failed: 0, skipped: 0 });
    expect((await stub.snapshot()).queued).toBe(0);
    await runDurableObjectAlarm(stub);
    const [row] = await query<{ state: string; sent: number }>(sql`SELECT state, sent FROM campaigns WHERE id = ${id}`);
    expect(row).toMatchObject({ state: "sending", sent: 1 });
    // The live view took Postgres's count.
    expect(await stub.snapshot()).toMatchObject({ state: "sending", sent: 1, queued: 2 });
    // The two pending recipients settle; the next recount completes the campaign with true counts.
    await query(sql`UPDATE messages SET status = 'sent' WHERE campaign_id = ${id}`);
    await stub.report({ sent: 2, failed: 0, skipped: 0 });
    await runInDurableObject(stub, (instance: CampaignProgress) => {
      (instance as unknown as { lastSettle: number }).lastSettle = 0;
    });
    await runDurableObjectAlarm(stub);
    const [after] = await query<{ state: string; sent: number }>(sql`SELECT state, sent FROM campaigns WHERE id = ${id}`);
    expect(after).toMatchObject({ state: "completed", sent: 3 });
  });
});

describe("an ambiguous Resend batch is replayed with its idempotency key", () => {
  it("replays the exact request under the same key, so every recipient is mailed once and ends sent", async () => {
    const s = stubs();
    const { apiKey } = await newTenant();
    const t = tag();
    // One recipient steers the stand-in: it processes the batch, then resets the connection.
    const a = await audience(apiKey, t, 3, [{ email: `fault-reset.${t}@example.test`, name: "Faulty" }]);
    const created = await call("/v1/providers", {
      method: "POST",
      token: apiKey,
      json: {
        name: "resend",
        kind: "resend",
        config: { base_url: s.resend.baseUrl },
        credentials: { api_key: s.resend.apiKey },
        rate_per_second: 1000,
      },
    });
    expect(created.status).toBe(201);
    const provider = ((await created.json()) as { id: string }).id;
    const id = await campaign(apiKey, { templateId: await template(apiKey), listIds: [a.listId], providerIds: [provider] });
    await launch(apiKey, id);
    // The batch went out and its answer was lost: the recipients wait for a replay, not a re-send.
    const deadline = Date.now() + 20_000;
    let rows: { status: string }[] = [];
    while (Date.now() < deadline) {
      rows = await query<{ status: string }>(sql`SELECT status FROM messages WHERE campaign_id = ${id}`);
      if (rows.length === 4 && rows.every((r) => r.status === "replaying")) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(rows.map((r) => r.status)).toEqual(Array(4).fill("replaying"));
    const [stored] = await query<{ n: number }>(sql`SELECT count(*)::int AS n FROM provider_replays WHERE campaign_id = ${id}`);
    expect(stored!.n).toBe(1);
    // The cron replays it: the same body under the same key, answered from Resend's idempotency store.
    await worker.scheduled(createScheduledController({ cron: "* * * * *", scheduledTime: Date.now() }), env, createExecutionContext());
    const final = await waitFor(apiKey, id, done);
    expect(final).toMatchObject({ state: "completed", counts: { sent: 4, unknown: 0, failed: 0 } });
    const requests = await captured("resend", `fault-reset.${t}@example.test`);
    expect(requests).toHaveLength(2);
    expect(requests[1]!.headers["idempotency-key"]).toBe(requests[0]!.headers["idempotency-key"]);
    expect(requests[1]!.replayed).toBe(true);
    expect(await query(sql`SELECT 1 FROM provider_replays WHERE campaign_id = ${id}`)).toEqual([]);
  });
});

describe("transactional mail with an ambiguous answer", () => {
  it("ends unknown, with an unknown event, and is never sent again", async () => {
    const { apiKey } = await newTenant();
    const t = tag();
    await faultyProvider(apiKey, `/reset-after-accept/1/${crypto.randomUUID()}`);
    const to = `ada.${t}@example.test`;
    const res = await call("/v1/emails", {
      method: "POST",
      token: apiKey,
      json: { from: "Herald <hi@herald.test>", to, subject: "Hi", html: "<p>Hi</p>" },
    });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    const email = await waitForEmail(apiKey, id, (e) => e.status === "unknown" && e.events.some((x) => x.type === "unknown"));
    expect(email).toMatchObject({ status: "unknown", last_event: "unknown" });
    // The outbox and the sweeper leave it alone: the sink has it exactly once.
    await worker.scheduled(createScheduledController({ cron: "* * * * *", scheduledTime: Date.now() }), env, createExecutionContext());
    expect(await receivedBy(t)).toEqual({ [to]: 1 });
    expect((await getEmail(apiKey, id)).status).toBe("unknown");
  });
});
