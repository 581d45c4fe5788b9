import {
  createExecutionContext,
  createMessageBatch,
  createScheduledController,
  getQueueResult,
  waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { sql, type SQL } from "drizzle-orm";
import { expect } from "vitest";
import type { SendMessage } from "../src/campaigns/queue-messages";
import { progressStub } from "../src/services/durable-objects";
import worker from "../src/index";
import { openDb } from "../src/services/db";
import { call, newTenant } from "./helpers";

type TestEnv = Env & { TEST_SINK_URL: string };
export const SINK_URL = (env as TestEnv).TEST_SINK_URL;

/** A unique tag for a test's addresses, so its sink counts never mix with another test's. */
export function tag(): string {
  return `t${crypto.randomUUID().slice(0, 12)}`;
}

async function ok<T>(res: Response, status = 201): Promise<T> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  return JSON.parse(text) as T;
}

export interface Audience {
  listId: string;
  emails: string[];
}

/** A list of `n` contacts addressed u<i>.<tag>@example.test. */
export async function audience(apiKey: string, t: string, n: number, extra: Record<string, unknown>[] = []): Promise<Audience> {
  const list = await ok<{ id: string }>(await call("/v1/lists", { method: "POST", token: apiKey, json: { name: `list-${t}` } }));
  const contacts = [
    ...Array.from({ length: n }, (_, i) => ({ email: `u${i}.${t}@example.test`, name: `User ${i}`, attributes: { n: i } })),
    ...extra,
  ];
  const res = await call(`/v1/contacts/import?list_id=${list.id}`, { method: "POST", token: apiKey, json: contacts });
  const report = await ok<{ created: number; errors: unknown[] }>(res, 200);
  expect(report.errors).toEqual([]);
  return { listId: list.id, emails: contacts.map((c) => String(c.email)) };
}

export async function template(apiKey: string, body: Record<string, unknown> = {}): Promise<string> {
  const created = await ok<{ id: string }>(
    await call("/v1/templates", {
      method: "POST",
      token: apiKey,
      json: { name: "t", subject: "Hello {{name}}", html: "<p>Hi {{name}}, plan {{attributes.n}}</p>", text: "Hi {{name}}", ...body },
    }),
  );
  return created.id;
}

/** A sink provider; `path` picks the sink's behaviour (see scripts/lib/sink-server.mjs). */
export async function sinkProvider(apiKey: string, opts: { path?: string; rate?: number; quota?: number } = {}): Promise<string> {
  const created = await ok<{ id: string }>(
    await call("/v1/providers", {
      method: "POST",
      token: apiKey,
      json: {
        name: `sink-${crypto.randomUUID().slice(0, 6)}`,
        kind: "sink",
        config: { url: new URL(opts.path ?? "/", SINK_URL).toString() },
        rate_per_second: opts.rate ?? 10_000,
        daily_quota: opts.quota ?? 0,
      },
    }),
  );
  return created.id;
}

export async function campaign(
  apiKey: string,
  body: { templateId: string; listIds: string[]; providerIds: string[]; data?: Record<string, unknown> },
): Promise<string> {
  const created = await ok<{ id: string }>(
    await call("/v1/campaigns", {
      method: "POST",
      token: apiKey,
      json: {
        name: "c",
        template_id: body.templateId,
        list_ids: body.listIds,
        provider_ids: body.providerIds,
        from: "Herald Test <news@herald.test>",
        data: body.data ?? {},
      },
    }),
  );
  return created.id;
}

export interface CampaignDto {
  id: string;
  state: string;
  counts: { total: number; sent: number; failed: number; skipped: number; unknown: number };
}

export async function getCampaign(apiKey: string, id: string): Promise<CampaignDto> {
  return ok<CampaignDto>(await call(`/v1/campaigns/${id}`, { token: apiKey }), 200);
}

export async function progressOf(apiKey: string, id: string) {
  return ok<{ state: string; total: number; sent: number; failed: number; skipped: number; queued: number }>(
    await call(`/v1/campaigns/${id}/progress`, { token: apiKey }),
    200,
  );
}

/**
 * Waits until `check` passes on the campaign, reading it through the API. The real queues and
 * Durable Object alarms do the work on their own schedule, so this re-reads the campaign (every
 * 200 ms) rather than sleeping a guessed time; on timeout it fails naming the check it waited for
 * and the last state it saw.
 */
export async function waitFor(apiKey: string, id: string, check: (c: CampaignDto) => boolean, timeoutMs = 20_000): Promise<CampaignDto> {
  const deadline = Date.now() + timeoutMs;
  let last = await getCampaign(apiKey, id);
  while (!check(last)) {
    if (Date.now() > deadline) {
      const what = check.name || String(check);
      throw new Error(`campaign ${id}: waited ${timeoutMs} ms for ${what}; it is still ${JSON.stringify(last)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
    last = await getCampaign(apiKey, id);
  }
  return last;
}

/** GETs one of the sink's record endpoints (scripts/lib/sink-server.mjs), failing on any answer but 200. */
async function fromSink<T>(path: string, t: string): Promise<T> {
  const url = new URL(`${path}?to=${encodeURIComponent(t)}`, SINK_URL);
  const res = await fetch(url);
  const text = await res.text();
  if (!res.ok) throw new Error(`the sink answered GET ${url.pathname}${url.search} with ${res.status}: ${text.slice(0, 200)}`);
  return JSON.parse(text) as T;
}

/** How many emails the sink received for each address tagged `t`. */
export function receivedBy(t: string): Promise<Record<string, number>> {
  return fromSink("/received", t);
}

export function keptMessages(
  t: string,
): Promise<{ id: string; to: string[]; subject: string; html: string; text: string; headers: Record<string, string> }[]> {
  return fromSink("/messages", t);
}

/** A campaign action: POST /v1/campaigns/{id}/{action} (a query string may follow the action). */
export const post = (apiKey: string, id: string, action: string) =>
  call(`/v1/campaigns/${id}/${action}`, { method: "POST", token: apiKey });

/** The campaign has stopped sending, whatever the reason. */
export const done = (c: { state: string }) => !["sending", "draft", "scheduled"].includes(c.state);

/** POST /v1/campaigns/{id}/launch; the caller checks the answer (202, or the problem it expects). */
export const launch = (apiKey: string, id: string) => post(apiKey, id, "launch");

type SinkOptions = Parameters<typeof sinkProvider>[1];

/**
 * A new tenant with `n` contacts (and the `extra` ones made for the test's tag) and a draft campaign
 * to them, with the default template, through a sink provider for each of `providers` (the options
 * pick its behaviour; one default sink unless given).
 */
export async function sinkCampaign(n: number, extra: (t: string) => Record<string, unknown>[] = () => [], providers: SinkOptions[] = [{}]) {
  const { apiKey, tenantId } = await newTenant();
  const t = tag();
  const a = await audience(apiKey, t, n, extra(t));
  const templateId = await template(apiKey);
  const providerIds: string[] = [];
  for (const options of providers) providerIds.push(await sinkProvider(apiKey, options));
  const id = await campaign(apiKey, { templateId, listIds: [a.listId], providerIds });
  return { apiKey, tenantId, t, a, id, providerIds };
}

// --- Driving the send consumer by hand (see test/campaign-liveness.test.ts) ------------------------

/** Runs one SQL statement on a connection of its own and returns the rows. */
export async function query<T extends Record<string, unknown>>(q: SQL): Promise<T[]> {
  const h = openDb(env);
  try {
    return (await h.db.execute<T>(q)).rows as T[];
  } finally {
    await h.close();
  }
}

/** Each of `emails` was received exactly once, and nobody else with the same tag. */
export function expectEachOnce(received: Record<string, number>, emails: string[]) {
  expect(Object.keys(received).sort()).toEqual([...emails].sort());
  expect(Object.values(received).every((n) => n === 1)).toBe(true);
}

/** A list of `n` contacts as `audience` makes them, imported in chunks (one import takes at most 10,000 rows). */
export async function largeAudience(apiKey: string, t: string, n: number, chunk = 5000): Promise<Audience> {
  const list = await ok<{ id: string }>(await call("/v1/lists", { method: "POST", token: apiKey, json: { name: `list-${t}` } }));
  const emails: string[] = [];
  for (let from = 0; from < n; from += chunk) {
    const contacts = Array.from({ length: Math.min(chunk, n - from) }, (_, k) => ({
      email: `u${from + k}.${t}@example.test`,
      name: `User ${from + k}`,
      attributes: { n: from + k },
    }));
    const report = await ok<{ errors: unknown[] }>(
      await call(`/v1/contacts/import?list_id=${list.id}`, { method: "POST", token: apiKey, json: contacts }),
      200,
    );
    expect(report.errors).toEqual([]);
    emails.push(...contacts.map((c) => c.email));
  }
  return { listId: list.id, emails };
}

/**
 * Puts a campaign in `sending` as launch would, but queues no fan-out: the test delivers its send
 * messages by hand. Returns the send messages for every contact of the tenant, 100 recipients each.
 */
export async function sendingByHand(tenantId: string, id: string): Promise<SendMessage[]> {
  const contacts = await query<{ id: string; email: string }>(
    sql`SELECT id, email FROM contacts WHERE tenant_id = ${tenantId} ORDER BY id`,
  );
  await query(sql`
    UPDATE campaigns c SET state = 'sending', started_at = now(), total = ${contacts.length},
      message_month = date_trunc('month', now() AT TIME ZONE 'UTC')::date,
      template_snapshot = (SELECT jsonb_build_object('id', t.id, 'version', t.version, 'subject', t.subject, 'html', t.html, 'text', t.text)
                           FROM templates t WHERE t.id = c.template_id)
    WHERE c.id = ${id}`);
  await progressStub(env, id).start({ tenantId, campaignId: id, total: contacts.length });
  const [row] = await query<{ month: string }>(sql`SELECT to_char(message_month, 'YYYY-MM-DD') AS month FROM campaigns WHERE id = ${id}`);
  const bodies: SendMessage[] = [];
  for (let i = 0; i < contacts.length; i += 100) {
    const recipients = contacts.slice(i, i + 100).map((c) => ({ c: c.id, e: c.email, n: null, a: {} }));
    bodies.push({ type: "campaign_send", tenant_id: tenantId, campaign_id: id, month: row!.month, recipients });
  }
  return bodies;
}

export interface Requeued {
  body: SendMessage;
  delaySeconds?: number;
}

/**
 * Delivers send messages (ids m0, m1, …) straight to the consumer in one invocation, with a
 * SEND_QUEUE that records what the consumer queues again instead of queueing it.
 */
export async function deliverSends(bodies: SendMessage[], overrides: Partial<Env> = {}) {
  const requeued: Requeued[] = [];
  const record = async (items: Iterable<MessageSendRequest<SendMessage>>) =>
    void requeued.push(...[...items].map((m) => ({ body: m.body, delaySeconds: m.delaySeconds })));
  const queue = { sendBatch: record, send: (body: SendMessage, o?: QueueSendOptions) => record([{ body, ...o }]) } as unknown as Queue;
  const batch = createMessageBatch(
    "herald-send",
    bodies.map((body, i) => ({ id: `m${i}`, timestamp: new Date(), attempts: 1, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, { ...env, SEND_QUEUE: queue, ...overrides }, ctx);
  return { result: await getQueueResult(batch, ctx), requeued };
}

/** Fires the cron once, as Cloudflare would, with the test bindings (or `overrides` over them). */
export async function cronTick(overrides: Partial<Env> = {}) {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ cron: "* * * * *", scheduledTime: Date.now() }), { ...env, ...overrides }, ctx);
  await waitOnExecutionContext(ctx);
}
