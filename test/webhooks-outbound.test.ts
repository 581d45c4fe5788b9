import { createExecutionContext, createMessageBatch, getQueueResult, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { webhookDeliveries, webhookEndpoints } from "../src/db/schema";
import type { StoredEvent } from "../src/events/message";
import worker from "../src/index";
import { dispatchWebhooks, type WebhookDeliveryMessage } from "../src/webhooks/outbound/dispatch";
import { openWebhookSecret, signWebhook, verifyWebhook } from "../src/webhooks/outbound/sign";
import { processWebhookBatch, webhookRetryDelaySeconds } from "../queues/webhooks";
import { JsonLogger } from "../src/services/logger";
import { withDb as rows, call, expectProblem, newTenant } from "./helpers";
import type { ReceivedWebhook } from "./setup/webhook-receiver";

const RECEIVER = (env as Env & { TEST_WEBHOOK_URL: string }).TEST_WEBHOOK_URL;

interface Endpoint {
  id: string;
  url: string;
  description: string | null;
  event_types: string[];
  enabled: boolean;
  created_at: string;
  updated_at: string;
  secret?: string;
}

interface Delivery {
  id: string;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  status: "pending" | "succeeded" | "failed";
  attempts: number;
  response_status: number | null;
  error: string | null;
  delivered_at: string | null;
  payload?: Record<string, unknown>;
}

const tag = () => `w${crypto.randomUUID().slice(0, 12)}`;

async function json<T>(res: Response, status: number): Promise<T> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  return JSON.parse(text) as T;
}

async function createEndpoint(token: string, body: Record<string, unknown>): Promise<Endpoint & { secret: string }> {
  return json(await call("/v1/webhooks", { method: "POST", token, json: body }), 201);
}

async function deliveriesOf(token: string, endpointId: string, query = ""): Promise<{ data: Delivery[]; next_cursor: string | null }> {
  return json(await call(`/v1/webhooks/${endpointId}/deliveries${query}`, { token }), 200);
}

async function received(t: string): Promise<ReceivedWebhook[]> {
  const res = await fetch(`${RECEIVER}/_received?tag=${t}`);
  return (await res.json()) as ReceivedWebhook[];
}

function event(tenantId: string, type: StoredEvent["type"], extra: Partial<StoredEvent> = {}): StoredEvent {
  return {
    id: crypto.randomUUID(),
    tenantId,
    type,
    occurredAt: new Date("2026-11-22T10:00:00.000Z"),
    messageId: crypto.randomUUID(),
    campaignId: crypto.randomUUID(),
    email: "ada@example.test",
    url: null,
    data: {},
    ...extra,
  };
}

/** A stand-in for WEBHOOKS_QUEUE that keeps what was sent, so a test can hand it to the consumer itself. */
function captureQueue(fail = false) {
  const calls: WebhookDeliveryMessage[][] = [];
  const queue = {
    async send() {
      throw new Error("use sendBatch");
    },
    async sendBatch(messages: Iterable<MessageSendRequest<WebhookDeliveryMessage>>) {
      if (fail) throw new Error("queue unavailable");
      calls.push([...messages].map((m) => m.body));
    },
  } as unknown as Queue;
  return { queue, calls, bodies: () => calls.flat() };
}

/** Dispatches as the events consumer does: inside the transaction that stores the events. */
async function dispatch(tenantId: string, events: StoredEvent[], queue: Queue = captureQueue().queue): Promise<void> {
  await rows((db) => db.transaction((tx) => dispatchWebhooks(tx, { ...env, WEBHOOKS_QUEUE: queue }, tenantId, events)));
}

let seq = 0;
/** Runs the webhooks consumer over these message bodies, as the queue would deliver them. */
async function consume(bodies: unknown[], attempts = 1, queue = "herald-webhooks") {
  const ids = bodies.map(() => `m${++seq}`);
  const batch = createMessageBatch(
    queue,
    bodies.map((body, i) => ({ id: ids[i]!, timestamp: new Date(), attempts, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, env, ctx);
  const result = await getQueueResult(batch, ctx);
  return { ids, result };
}

/**
 * Runs the consumer over a hand-made batch that records each message's ack or retry with its delay
 * (getQueueResult reports retries without their delay).
 */
async function consumeRecorded(bodies: unknown[], attempts: number) {
  const acked: string[] = [];
  const retried: { id: string; delaySeconds?: number }[] = [];
  const messages = bodies.map((body) => {
    const id = `r${++seq}`;
    return {
      id,
      timestamp: new Date(),
      attempts,
      body,
      ack: () => acked.push(id),
      retry: (options?: QueueRetryOptions) => retried.push({ id, delaySeconds: options?.delaySeconds }),
    };
  });
  const batch = { queue: "herald-webhooks", messages, ackAll: () => {}, retryAll: () => {} } as unknown as MessageBatch;
  const ctx = createExecutionContext();
  await processWebhookBatch(batch, env, ctx, new JsonLogger({}, "error", () => {}));
  await waitOnExecutionContext(ctx);
  return { acked, retried };
}

/** One endpoint at the receiver, one event dispatched to it, and its queued message. */
async function oneDelivery(path: (t: string) => string, body: Record<string, unknown> = {}) {
  const t = tag();
  const tenant = await newTenant();
  const endpoint = await createEndpoint(tenant.apiKey, { url: `${RECEIVER}${path(t)}`, ...body });
  const q = captureQueue();
  const e = event(tenant.tenantId, "delivered");
  await dispatch(tenant.tenantId, [e], q.queue);
  expect(q.bodies()).toHaveLength(1);
  return { t, tenant, endpoint, event: e, message: q.bodies()[0]! };
}

describe("/v1/webhooks endpoints", () => {
  it("creates an endpoint and shows its signing secret once, never again", async () => {
    const { apiKey } = await newTenant();
    const created = await createEndpoint(apiKey, {
      url: "https://example.com/hooks",
      event_types: ["email.delivered", "email.bounced", "email.delivered"],
      description: "  prod  ",
    });
    expect(created).toMatchObject({
      url: "https://example.com/hooks",
      event_types: ["email.delivered", "email.bounced"],
      description: "prod",
      enabled: true,
    });
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(atob(created.secret.slice(6))).toHaveLength(32);
    const { secret, ...dto } = created;

    const bodies = [
      await (await call(`/v1/webhooks/${dto.id}`, { token: apiKey })).text(),
      await (await call("/v1/webhooks", { token: apiKey })).text(),
      await (await call(`/v1/webhooks/${dto.id}`, { method: "PATCH", token: apiKey, json: { enabled: false } })).text(),
    ];
    for (const body of bodies) {
      expect(body).not.toContain(secret.slice(6));
      expect(body).not.toMatch(/"secret"/);
    }
    expect(JSON.parse(bodies[0]!)).toEqual(dto);

    const stored = await rows(async (db) => (await db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, dto.id)))[0]!);
    expect(stored.secret).toMatch(/^v1\./);
    expect(stored.secret).not.toContain(secret.slice(6));
    expect(await openWebhookSecret(dto.id, stored.secret, env)).toBe(secret);
    // Bound to its endpoint: the same blob does not open as another endpoint's secret.
    await expect(openWebhookSecret(crypto.randomUUID(), stored.secret, env)).rejects.toThrow();
  });

  it("lists newest first with a cursor, gets, patches and deletes", async () => {
    const { apiKey } = await newTenant();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await createEndpoint(apiKey, { url: `https://example.com/h/${i}` })).id);

    const first = await json<{ data: Endpoint[]; next_cursor: string | null }>(await call("/v1/webhooks?limit=2", { token: apiKey }), 200);
    expect(first.data.map((e) => e.id)).toEqual([ids[2], ids[1]]);
    expect(first.next_cursor).toBeTruthy();
    const second = await json<{ data: Endpoint[]; next_cursor: string | null }>(
      await call(`/v1/webhooks?limit=2&cursor=${first.next_cursor}`, { token: apiKey }),
      200,
    );
    expect(second.data.map((e) => e.id)).toEqual([ids[0]]);
    expect(second.next_cursor).toBeNull();
    expect(first.data[0]).toMatchObject({ event_types: [], description: null, enabled: true });

    const patched = await json<Endpoint>(
      await call(`/v1/webhooks/${ids[0]}`, {
        method: "PATCH",
        token: apiKey,
        json: { url: "https://example.com/new", event_types: ["email.opened"], description: "new", enabled: false },
      }),
      200,
    );
    expect(patched).toMatchObject({ url: "https://example.com/new", event_types: ["email.opened"], description: "new", enabled: false });
    expect(Date.parse(patched.updated_at)).toBeGreaterThanOrEqual(Date.parse(patched.created_at));
    const cleared = await json<Endpoint>(
      await call(`/v1/webhooks/${ids[0]}`, { method: "PATCH", token: apiKey, json: { event_types: [], description: null } }),
      200,
    );
    expect(cleared).toMatchObject({ event_types: [], description: null, url: "https://example.com/new" });

    expect((await call(`/v1/webhooks/${ids[0]}`, { method: "DELETE", token: apiKey })).status).toBe(204);
    await expectProblem(await call(`/v1/webhooks/${ids[0]}`, { token: apiKey }), 404, "not_found");
    await expectProblem(await call(`/v1/webhooks/${ids[0]}`, { method: "DELETE", token: apiKey }), 404, "not_found");
  });

  it("rotates the signing secret; the new one is shown once and signs from then on", async () => {
    const { t, tenant, endpoint, message } = await oneDelivery((t) => `/ok/${t}`);
    const rotated = await json<Endpoint & { secret: string }>(
      await call(`/v1/webhooks/${endpoint.id}/rotate-secret`, { method: "POST", token: tenant.apiKey }),
      200,
    );
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(endpoint.secret);
    expect(rotated.id).toBe(endpoint.id);
    await consume([message]);
    const [req] = await received(t);
    expect((await verifyWebhook(rotated.secret, req!.headers, req!.body)).ok).toBe(true);
    expect(await verifyWebhook(endpoint.secret, req!.headers, req!.body)).toEqual({ ok: false, reason: "bad_signature" });
  });

  it("answers validation problems naming each field", async () => {
    const { apiKey } = await newTenant();
    const bad = await expectProblem(
      await call("/v1/webhooks", {
        method: "POST",
        token: apiKey,
        json: { url: "ftp://example.com/x", event_types: ["email.nope"], colour: "red" },
      }),
      422,
      "validation_failed",
    );
    expect(bad.errors!.map((e) => e.field).sort()).toEqual(["body.colour", "body.event_types.0", "body.url"]);

    for (const url of [
      "not a url",
      "/relative/path",
      "javascript:alert(1)",
      `https://example.com/${"x".repeat(2048)}`,
      "http://example.com/plain",
      "https://user:pass@example.com/hook",
    ]) {
      const p = await expectProblem(await call("/v1/webhooks", { method: "POST", token: apiKey, json: { url } }), 422, "validation_failed");
      expect(p.errors!.map((e) => e.field)).toEqual(["body.url"]);
    }
    const missing = await expectProblem(await call("/v1/webhooks", { method: "POST", token: apiKey, json: {} }), 422, "validation_failed");
    expect(missing.errors!.map((e) => e.field)).toEqual(["body.url"]);
    const types = await expectProblem(
      await call("/v1/webhooks", {
        method: "POST",
        token: apiKey,
        json: { url: "https://example.com", event_types: "email.sent", enabled: "yes" },
      }),
      422,
      "validation_failed",
    );
    expect(types.errors!.map((e) => e.field).sort()).toEqual(["body.enabled", "body.event_types"]);

    const { id } = await createEndpoint(apiKey, { url: "https://example.com/ok" });
    await expectProblem(await call(`/v1/webhooks/${id}`, { method: "PATCH", token: apiKey, json: {} }), 422, "validation_failed");
    const patch = await expectProblem(
      await call(`/v1/webhooks/${id}`, { method: "PATCH", token: apiKey, json: { url: "mailto:x@example.com", secret: "mine" } }),
      422,
      "validation_failed",
    );
    expect(patch.errors!.map((e) => e.field).sort()).toEqual(["body.secret", "body.url"]);
    const cursor = await expectProblem(await call("/v1/webhooks?cursor=nope!", { token: apiKey }), 422, "validation_failed");
    expect(cursor.errors!.map((e) => e.field)).toEqual(["query.cursor"]);
    const status = await expectProblem(
      await call(`/v1/webhooks/${id}/deliveries?status=lost&limit=0`, { token: apiKey }),
      422,
      "validation_failed",
    );
    expect(status.errors!.map((e) => e.field).sort()).toEqual(["query.limit", "query.status"]);
    await expectProblem(
      await call("/v1/webhooks", { method: "POST", token: apiKey, body: "{", headers: { "content-type": "application/json" } }),
      400,
      "malformed_json",
    );
  });

  it("keeps every tenant to its own endpoints and deliveries: anyone else's are 404", async () => {
    const { tenant: a, endpoint, message } = await oneDelivery((t) => `/ok/${t}`);
    const b = await newTenant();
    const deliveryId = message.delivery_id;
    const q = captureQueue();
    const attempts: [string, string, unknown?][] = [
      ["GET", `/v1/webhooks/${endpoint.id}`],
      ["PATCH", `/v1/webhooks/${endpoint.id}`, { enabled: false }],
      ["DELETE", `/v1/webhooks/${endpoint.id}`],
      ["POST", `/v1/webhooks/${endpoint.id}/rotate-secret`],
      ["GET", `/v1/webhooks/${endpoint.id}/deliveries`],
      ["GET", `/v1/webhooks/${endpoint.id}/deliveries/${deliveryId}`],
      ["POST", `/v1/webhooks/${endpoint.id}/deliveries/${deliveryId}/redeliver`],
      ["GET", "/v1/webhooks/not-a-uuid"],
      ["GET", `/v1/webhooks/${endpoint.id}/deliveries/not-a-uuid`],
    ];
    for (const [method, path, body] of attempts) {
      await expectProblem(await call(path, { method, token: b.apiKey, json: body, env: { WEBHOOKS_QUEUE: q.queue } }), 404, "not_found");
    }
    expect(q.bodies()).toEqual([]);
    // B's own endpoint cannot reach A's delivery either.
    const mine = await createEndpoint(b.apiKey, { url: "https://example.com/b" });
    await expectProblem(await call(`/v1/webhooks/${mine.id}/deliveries/${deliveryId}`, { token: b.apiKey }), 404, "not_found");
    expect((await deliveriesOf(b.apiKey, mine.id)).data).toEqual([]);
    // A still has it all.
    expect((await json<Endpoint>(await call(`/v1/webhooks/${endpoint.id}`, { token: a.apiKey }), 200)).enabled).toBe(true);
    expect((await deliveriesOf(a.apiKey, endpoint.id)).data.map((d) => d.id)).toEqual([deliveryId]);
    expect((await json<{ data: Endpoint[] }>(await call("/v1/webhooks", { token: b.apiKey }), 200)).data.map((e) => e.id)).toEqual([
      mine.id,
    ]);
  });

  it("needs webhooks:read to read and webhooks:write to change", async () => {
    const { apiKey } = await newTenant();
    const { id } = await createEndpoint(apiKey, { url: "https://example.com/x" });
    const key = async (scopes: string[]) =>
      (
        await json<{ key: string }>(
          await call("/v1/api-keys", { method: "POST", token: apiKey, json: { name: scopes.join(","), scopes } }),
          201,
        )
      ).key;
    const reader = await key(["webhooks:read"]);
    const other = await key(["contacts:read"]);
    expect((await call(`/v1/webhooks/${id}`, { token: reader })).status).toBe(200);
    expect((await call(`/v1/webhooks/${id}/deliveries`, { token: reader })).status).toBe(200);
    await expectProblem(
      await call("/v1/webhooks", { method: "POST", token: reader, json: { url: "https://example.com" } }),
      403,
      "forbidden",
    );
    await expectProblem(await call(`/v1/webhooks/${id}`, { method: "DELETE", token: reader }), 403, "forbidden");
    await expectProblem(await call(`/v1/webhooks/${id}/rotate-secret`, { method: "POST", token: reader }), 403, "forbidden");
    await expectProblem(await call("/v1/webhooks", { token: other }), 403, "forbidden");
    await expectProblem(await call("/v1/webhooks"), 401, "unauthorized");
  });
});

describe("dispatchWebhooks", () => {
  it("creates deliveries only for enabled endpoints subscribed to each event, once per event", async () => {
    const { apiKey, tenantId } = await newTenant();
    const other = await newTenant();
    const all = await createEndpoint(apiKey, { url: "https://example.com/all" });
    const delivered = await createEndpoint(apiKey, { url: "https://example.com/delivered", event_types: ["email.delivered"] });
    const opened = await createEndpoint(apiKey, { url: "https://example.com/opened", event_types: ["email.opened", "email.bounced"] });
    const disabled = await createEndpoint(apiKey, { url: "https://example.com/off", enabled: false });
    const strangers = await createEndpoint(other.apiKey, { url: "https://example.com/theirs" });

    const events = [
      event(tenantId, "delivered"),
      event(tenantId, "opened"),
      event(tenantId, "clicked", { url: "https://shop.example/x", data: { user_agent: "UA", email: "spoof@example.test" } }),
    ];
    const q = captureQueue();
    // Another tenant's event in the list is ignored: the dispatcher only works for the tenant it is given.
    await dispatch(tenantId, [...events, event(other.tenantId, "delivered")], q.queue);

    const logged = async (id: string) => (await deliveriesOf(apiKey, id)).data;
    expect((await logged(all.id)).map((d) => d.event_type).sort()).toEqual(["email.clicked", "email.delivered", "email.opened"]);
    expect((await logged(delivered.id)).map((d) => d.event_id)).toEqual([events[0]!.id]);
    expect((await logged(opened.id)).map((d) => d.event_id)).toEqual([events[1]!.id]);
    expect(await logged(disabled.id)).toEqual([]);
    expect((await deliveriesOf(other.apiKey, strangers.id)).data).toEqual([]);

    // Every delivery created was queued, in one sendBatch, with the tenant on each message.
    const created = [...(await logged(all.id)), ...(await logged(delivered.id)), ...(await logged(opened.id))];
    expect(q.calls).toHaveLength(1);
    expect(
      q
        .bodies()
        .map((b) => b.delivery_id)
        .sort(),
    ).toEqual(created.map((d) => d.id).sort());
    expect(q.bodies().every((b) => b.type === "webhook_delivery" && b.tenant_id === tenantId)).toBe(true);
    expect(created.every((d) => d.status === "pending" && d.attempts === 0)).toBe(true);

    // The payload: {id, type, created_at, data} with the event's identifiers, which its data cannot override.
    const click = (await logged(all.id)).find((d) => d.event_type === "email.clicked")!;
    const full = await json<Delivery>(await call(`/v1/webhooks/${all.id}/deliveries/${click.id}`, { token: apiKey }), 200);
    expect(full.payload).toEqual({
      id: events[2]!.id,
      type: "email.clicked",
      created_at: "2026-11-22T10:00:00.000Z",
      data: {
        message_id: events[2]!.messageId,
        campaign_id: events[2]!.campaignId,
        email: "ada@example.test",
        url: "https://shop.example/x",
        user_agent: "UA",
      },
    });
    const open = (await logged(all.id)).find((d) => d.event_type === "email.opened")!;
    const openFull = await json<Delivery>(await call(`/v1/webhooks/${all.id}/deliveries/${open.id}`, { token: apiKey }), 200);
    expect(openFull.payload!.data).not.toHaveProperty("url");

    // The same events again (a redelivered events batch): nothing new is created or queued.
    const again = captureQueue();
    await dispatch(tenantId, events, again.queue);
    expect(again.calls).toEqual([]);
    expect(await logged(all.id)).toHaveLength(3);
  });

  it("queues at most 100 messages per sendBatch call", async () => {
    const { apiKey, tenantId } = await newTenant();
    const endpoint = await createEndpoint(apiKey, { url: "https://example.com/many" });
    const q = captureQueue();
    await dispatch(
      tenantId,
      Array.from({ length: 150 }, () => event(tenantId, "sent")),
      q.queue,
    );
    expect(q.calls.map((c) => c.length)).toEqual([100, 50]);
    const count = await rows(
      async (db) => (await db.select().from(webhookDeliveries).where(eq(webhookDeliveries.endpointId, endpoint.id))).length,
    );
    expect(count).toBe(150);
  });

  it("deliveries it could not queue roll back with the events' transaction, so the events' retry queues them", async () => {
    const { apiKey, tenantId } = await newTenant();
    const endpoint = await createEndpoint(apiKey, { url: "https://example.com/x" });
    const events = [event(tenantId, "bounced")];
    await expect(dispatch(tenantId, events, captureQueue(true).queue)).rejects.toThrow("queue unavailable");
    expect((await deliveriesOf(apiKey, endpoint.id)).data).toEqual([]);
    const q = captureQueue();
    await dispatch(tenantId, events, q.queue);
    expect(q.bodies()).toHaveLength(1);
    expect((await deliveriesOf(apiKey, endpoint.id)).data).toHaveLength(1);
  });

  it("does nothing for a tenant without endpoints", async () => {
    const { tenantId } = await newTenant();
    const q = captureQueue();
    await dispatch(tenantId, [event(tenantId, "sent")], q.queue);
    await dispatch(tenantId, [], q.queue);
    expect(q.calls).toEqual([]);
  });
});

describe("the webhooks consumer", () => {
  it("POSTs the payload signed over the exact bytes sent, and records the success", async () => {
    const { t, tenant, endpoint, event: e, message } = await oneDelivery((t) => `/ok/${t}`);
    const before = Math.floor(Date.now() / 1000);
    const { ids, result } = await consume([message]);
    expect(result.explicitAcks).toEqual(ids);
    expect(result.retryMessages).toEqual([]);

    const reqs = await received(t);
    expect(reqs).toHaveLength(1);
    const req = reqs[0]!;
    expect(req.method).toBe("POST");
    expect(req.headers["content-type"]).toBe("application/json");
    expect(req.headers["user-agent"]).toBe("herald-webhooks/1");
    expect(req.headers["herald-webhook-id"]).toBe(message.delivery_id);
    const ts = Number(req.headers["herald-webhook-timestamp"]);
    expect(ts).toBeGreaterThanOrEqual(before);
    expect(ts).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    expect(req.headers["herald-webhook-signature"]).toBe(await signWebhook(endpoint.secret, ts, req.body));
    expect(req.headers["herald-webhook-signature"]).toMatch(/^v1=[0-9a-f]{64}$/);
    expect(await verifyWebhook(endpoint.secret, req.headers, req.body)).toEqual({ ok: true, id: message.delivery_id, timestamp: ts });
    expect(JSON.parse(req.body)).toMatchObject({
      id: e.id,
      type: "email.delivered",
      data: { message_id: e.messageId, email: "ada@example.test" },
    });

    const full = await json<Delivery>(
      await call(`/v1/webhooks/${endpoint.id}/deliveries/${message.delivery_id}`, { token: tenant.apiKey }),
      200,
    );
    expect(full).toMatchObject({ status: "succeeded", attempts: 1, response_status: 200, error: null });
    expect(full.delivered_at).toBeTruthy();
    expect(JSON.parse(req.body)).toEqual(full.payload);

    // The same message again (a duplicate): already settled, so nothing is sent.
    const dup = await consume([message]);
    expect(dup.result.explicitAcks).toEqual(dup.ids);
    expect(await received(t)).toHaveLength(1);
  });

  it("verifyWebhook refuses a tampered body, another secret, an old or future timestamp, and missing headers", async () => {
    const { t, endpoint, message } = await oneDelivery((t) => `/ok/${t}`);
    await consume([message]);
    const [req] = await received(t);
    const { headers, body } = req!;
    const ts = Number(headers["herald-webhook-timestamp"]);
    const at = (seconds: number) => ({ now: new Date((ts + seconds) * 1000) });

    expect((await verifyWebhook(endpoint.secret, headers, body)).ok).toBe(true);
    expect(await verifyWebhook(endpoint.secret, headers, body.replace("ada@", "eve@"))).toEqual({ ok: false, reason: "bad_signature" });
    expect(await verifyWebhook(endpoint.secret, headers, `${body} `)).toEqual({ ok: false, reason: "bad_signature" });
    const stranger = (await createEndpoint((await newTenant()).apiKey, { url: "https://example.com" })).secret;
    expect(await verifyWebhook(stranger, headers, body)).toEqual({ ok: false, reason: "bad_signature" });
    // The replay window is five minutes either side.
    expect((await verifyWebhook(endpoint.secret, headers, body, at(300))).ok).toBe(true);
    expect(await verifyWebhook(endpoint.secret, headers, body, at(301))).toEqual({ ok: false, reason: "timestamp_outside_tolerance" });
    expect(await verifyWebhook(endpoint.secret, headers, body, at(-301))).toEqual({ ok: false, reason: "timestamp_outside_tolerance" });
    expect((await verifyWebhook(endpoint.secret, headers, body, { ...at(3600), toleranceSeconds: 3600 })).ok).toBe(true);
    // A replay with a fresh timestamp but the old signature fails: the timestamp is signed.
    const replay = { ...headers, "herald-webhook-timestamp": String(ts + 60) };
    expect(await verifyWebhook(endpoint.secret, replay, body, at(60))).toEqual({ ok: false, reason: "bad_signature" });
    expect(await verifyWebhook(endpoint.secret, { ...headers, "herald-webhook-timestamp": "soon" }, body)).toEqual({
      ok: false,
      reason: "bad_timestamp",
    });
    expect(await verifyWebhook(endpoint.secret, { "herald-webhook-id": message.delivery_id }, body)).toEqual({
      ok: false,
      reason: "missing_headers",
    });
    // Headers objects work, and several space-separated signatures are accepted if one matches.
    const h = new Headers(headers);
    h.set("Herald-Webhook-Signature", `v1=${"0".repeat(64)} ${headers["herald-webhook-signature"]}`);
    expect((await verifyWebhook(endpoint.secret, h, body)).ok).toBe(true);
  });

  it("retries a failing endpoint with exponential backoff, then succeeds", async () => {
    const { t, tenant, endpoint, message } = await oneDelivery((t) => `/fail-first/2/503/${t}`);
    const get = async () =>
      json<Delivery>(await call(`/v1/webhooks/${endpoint.id}/deliveries/${message.delivery_id}`, { token: tenant.apiKey }), 200);

    const first = await consumeRecorded([message], 1);
    expect(first.acked).toEqual([]);
    expect(first.retried).toHaveLength(1);
    const d1 = first.retried[0]!.delaySeconds!;
    expect(d1).toBeGreaterThanOrEqual(30);
    expect(d1).toBeLessThanOrEqual(36);
    expect(await get()).toMatchObject({ status: "pending", attempts: 1, response_status: 503, delivered_at: null });
    expect((await get()).error).toMatch(/^HTTP 503: receiver says 503/);

    const second = await consumeRecorded([message], 2);
    const d2 = second.retried[0]!.delaySeconds!;
    expect(d2).toBeGreaterThanOrEqual(60);
    expect(d2).toBeLessThanOrEqual(72);
    expect(await get()).toMatchObject({ status: "pending", attempts: 2, response_status: 503 });

    // Through the worker's queue entrypoint this time, as the runtime delivers it.
    const third = await consume([message], 3);
    expect(third.result.explicitAcks).toEqual(third.ids);
    expect(third.result.retryMessages).toEqual([]);
    expect(await get()).toMatchObject({ status: "succeeded", attempts: 3, response_status: 200, error: null });

    const reqs = await received(t);
    expect(reqs.map((r) => r.answered)).toEqual([503, 503, 200]);
    // Every attempt is signed afresh, the same delivery id on each.
    for (const r of reqs) {
      expect(r.headers["herald-webhook-id"]).toBe(message.delivery_id);
      expect((await verifyWebhook(endpoint.secret, r.headers, r.body)).ok).toBe(true);
    }
  });

  it("follows the backoff schedule: 30 s doubling, at most 6 h, plus up to 20 % jitter, within the 12 h Queues cap", () => {
    const schedule = Array.from({ length: 12 }, (_, i) => webhookRetryDelaySeconds(i + 1, () => 0));
    expect(schedule).toEqual([30, 60, 120, 240, 480, 960, 1920, 3840, 7680, 15360, 21600, 21600]);
    expect(webhookRetryDelaySeconds(1, () => 0.999)).toBe(36);
    expect(webhookRetryDelaySeconds(40, () => 1)).toBe(25920);
    for (let attempts = 1; attempts <= 30; attempts++) {
      const d = webhookRetryDelaySeconds(attempts);
      expect(d).toBeGreaterThanOrEqual(Math.min(21600, 30 * 2 ** (attempts - 1)));
      expect(d).toBeLessThanOrEqual(43200);
    }
  });

  it("does not follow redirects: a 3xx is a failed attempt", async () => {
    const { t, tenant, endpoint, message } = await oneDelivery((t) => `/redirect/${t}`);
    const { result } = await consume([message]);
    expect(result.retryMessages).toHaveLength(1);
    expect((await received(t)).map((r) => r.path)).toEqual([`/redirect/${t}`]);
    const d = await json<Delivery>(
      await call(`/v1/webhooks/${endpoint.id}/deliveries/${message.delivery_id}`, { token: tenant.apiKey }),
      200,
    );
    expect(d).toMatchObject({ status: "pending", attempts: 1, response_status: 302 });
  });

  it("does not follow 301, 303, 307 or 308 either: the endpoint's own answer is the attempt's", async () => {
    for (const status of [301, 303, 307, 308]) {
      const { t, tenant, endpoint, message } = await oneDelivery((t) => `/redirect/${status}/${t}`);
      const { result } = await consume([message]);
      expect(result.retryMessages).toHaveLength(1);
      // A followed 307/308 would have POSTed the signed payload again, to /ok/<tag>.
      expect([status, (await received(t)).map((r) => r.path)]).toEqual([status, [`/redirect/${status}/${t}`]]);
      const d = await json<Delivery>(
        await call(`/v1/webhooks/${endpoint.id}/deliveries/${message.delivery_id}`, { token: tenant.apiKey }),
        200,
      );
      expect(d).toMatchObject({ status: "pending", attempts: 1, response_status: status });
    }
  });

  it("keeps the start of a failed answer clipped by code points, never half a surrogate pair", async () => {
    const { tenant, endpoint, message } = await oneDelivery((t) => `/long-body/${t}`);
    await consume([message]);
    const d = await json<Delivery>(
      await call(`/v1/webhooks/${endpoint.id}/deliveries/${message.delivery_id}`, { token: tenant.apiKey }),
      200,
    );
    // The body is 199 "x", an emoji (two UTF-16 units) and more: 200 units would end mid-emoji.
    expect(d.error).toBe(`HTTP 500: ${"x".repeat(199)}…`);
    expect(d.error!.isWellFormed()).toBe(true);
  });

  it("records a connection failure without a status", async () => {
    const tenant = await newTenant();
    // Nothing listens on port 9 locally (discard), so the connection is refused.
    const endpoint = await createEndpoint(tenant.apiKey, { url: "http://127.0.0.1:9/hook" });
    const q = captureQueue();
    await dispatch(tenant.tenantId, [event(tenant.tenantId, "failed")], q.queue);
    const { result } = await consume(q.bodies());
    expect(result.retryMessages).toHaveLength(1);
    const [d] = (await deliveriesOf(tenant.apiKey, endpoint.id)).data;
    expect(d).toMatchObject({ status: "pending", attempts: 1, response_status: null });
    expect(d!.error).toMatch(/^request failed/);
  });

  it("marks a dead-lettered delivery failed, keeping the last attempt's error", async () => {
    const { t, tenant, endpoint, message } = await oneDelivery((t) => `/status/500/${t}`);
    await consume([message], 11);
    const dead = await consume([message], 1, "herald-webhooks-dlq");
    expect(dead.result.explicitAcks).toEqual(dead.ids);
    const d = await json<Delivery>(
      await call(`/v1/webhooks/${endpoint.id}/deliveries/${message.delivery_id}`, { token: tenant.apiKey }),
      200,
    );
    expect(d).toMatchObject({ status: "failed", attempts: 1, response_status: 500 });
    expect(d.error).toMatch(/^HTTP 500/);
    expect(await received(t)).toHaveLength(1);
  });

  it("fails a delivery whose endpoint was disabled, without sending it; drops one whose endpoint was deleted", async () => {
    const { t, tenant, endpoint, message } = await oneDelivery((t) => `/ok/${t}`);
    await call(`/v1/webhooks/${endpoint.id}`, { method: "PATCH", token: tenant.apiKey, json: { enabled: false } });
    const { ids, result } = await consume([message]);
    expect(result.explicitAcks).toEqual(ids);
    expect(await received(t)).toEqual([]);
    const [d] = (await deliveriesOf(tenant.apiKey, endpoint.id)).data;
    expect(d).toMatchObject({ status: "failed", attempts: 0, error: "the endpoint is disabled" });

    const other = await oneDelivery((t) => `/ok/${t}`);
    await call(`/v1/webhooks/${other.endpoint.id}`, { method: "DELETE", token: other.tenant.apiKey });
    const gone = await consume([other.message]);
    expect(gone.result.explicitAcks).toEqual(gone.ids);
    expect(await received(other.t)).toEqual([]);
  });

  it("only delivers within the message's tenant, and drops malformed messages", async () => {
    const { t, message } = await oneDelivery((t) => `/ok/${t}`);
    const stranger = await newTenant();
    const { ids, result } = await consume([
      { ...message, tenant_id: stranger.tenantId },
      { type: "webhook_delivery", tenant_id: "nope" },
      { nope: 1 },
    ]);
    expect(result.explicitAcks.sort()).toEqual([...ids].sort());
    expect(await received(t)).toEqual([]);
  });
});

describe("the delivery log and redelivery", () => {
  it("pages deliveries newest first and filters them by status", async () => {
    const { apiKey, tenantId } = await newTenant();
    const t = tag();
    const endpoint = await createEndpoint(apiKey, { url: `${RECEIVER}/fail-first/1/500/${t}` });
    const q = captureQueue();
    // One at a time, so their ids (UUIDv7, millisecond resolution) are in creation order.
    for (const type of ["sent", "delivered", "opened"] as const) {
      await dispatch(tenantId, [event(tenantId, type)], q.queue);
      await new Promise((r) => setTimeout(r, 5));
    }
    const [a, b, c] = q.bodies();
    await consume([a]); // answered 500: pending
    await consume([b]); // succeeded
    await consume([c], 1, "herald-webhooks-dlq"); // failed

    const page1 = await deliveriesOf(apiKey, endpoint.id, "?limit=2");
    expect(page1.data.map((d) => d.id)).toEqual([c!.delivery_id, b!.delivery_id]);
    expect(page1.data[0]).not.toHaveProperty("payload");
    const page2 = await deliveriesOf(apiKey, endpoint.id, `?limit=2&cursor=${page1.next_cursor}`);
    expect(page2.data.map((d) => d.id)).toEqual([a!.delivery_id]);
    expect(page2.next_cursor).toBeNull();

    expect((await deliveriesOf(apiKey, endpoint.id, "?status=pending")).data.map((d) => d.id)).toEqual([a!.delivery_id]);
    expect((await deliveriesOf(apiKey, endpoint.id, "?status=succeeded")).data.map((d) => d.id)).toEqual([b!.delivery_id]);
    const failed = (await deliveriesOf(apiKey, endpoint.id, "?status=failed")).data;
    expect(failed.map((d) => d.id)).toEqual([c!.delivery_id]);
    expect(failed[0]).toMatchObject({ attempts: 0, response_status: null, error: "delivery abandoned after repeated failures" });
  });

  it("redelivers a delivery: back to pending, queued, sent again under the same id", async () => {
    const { t, tenant, endpoint, message } = await oneDelivery((t) => `/ok/${t}`);
    await consume([message]);
    const q = captureQueue();
    const path = `/v1/webhooks/${endpoint.id}/deliveries/${message.delivery_id}/redeliver`;
    const queued = await json<Delivery>(await call(path, { method: "POST", token: tenant.apiKey, env: { WEBHOOKS_QUEUE: q.queue } }), 202);
    expect(queued).toMatchObject({ id: message.delivery_id, status: "pending", attempts: 1, delivered_at: null });
    expect(queued.payload).toBeTruthy();
    expect(q.bodies()).toEqual([message]);

    await consume(q.bodies());
    const reqs = await received(t);
    expect(reqs).toHaveLength(2);
    expect(reqs[1]!.headers["herald-webhook-id"]).toBe(message.delivery_id);
    expect(reqs[1]!.body).toBe(reqs[0]!.body);
    expect((await verifyWebhook(endpoint.secret, reqs[1]!.headers, reqs[1]!.body)).ok).toBe(true);
    const after = await json<Delivery>(
      await call(`/v1/webhooks/${endpoint.id}/deliveries/${message.delivery_id}`, { token: tenant.apiKey }),
      200,
    );
    expect(after).toMatchObject({ status: "succeeded", attempts: 2, response_status: 200 });
  });

  it("redelivers a failed delivery with a fresh set of retries, and refuses while the endpoint is disabled", async () => {
    const { t, tenant, endpoint, message } = await oneDelivery((t) => `/fail-first/1/502/${t}`);
    await consume([message], 11);
    await consume([message], 1, "herald-webhooks-dlq");
    const path = `/v1/webhooks/${endpoint.id}/deliveries/${message.delivery_id}/redeliver`;

    await call(`/v1/webhooks/${endpoint.id}`, { method: "PATCH", token: tenant.apiKey, json: { enabled: false } });
    const q = captureQueue();
    await expectProblem(await call(path, { method: "POST", token: tenant.apiKey, env: { WEBHOOKS_QUEUE: q.queue } }), 409, "conflict");
    expect(q.bodies()).toEqual([]);
    await call(`/v1/webhooks/${endpoint.id}`, { method: "PATCH", token: tenant.apiKey, json: { enabled: true } });

    expect((await call(path, { method: "POST", token: tenant.apiKey, env: { WEBHOOKS_QUEUE: q.queue } })).status).toBe(202);
    const { result } = await consume(q.bodies(), 1);
    expect(result.retryMessages).toEqual([]);
    expect((await received(t)).map((r) => r.answered)).toEqual([502, 200]);
    const [d] = (await deliveriesOf(tenant.apiKey, endpoint.id)).data;
    expect(d).toMatchObject({ status: "succeeded", attempts: 2, response_status: 200, error: null });
  });

  it("delivers through the real queue end to end", async () => {
    const t = tag();
    const { apiKey, tenantId } = await newTenant();
    const endpoint = await createEndpoint(apiKey, { url: `${RECEIVER}/ok/${t}`, event_types: ["email.complained"] });
    await dispatch(tenantId, [event(tenantId, "complained"), event(tenantId, "opened")], env.WEBHOOKS_QUEUE);
    const deadline = Date.now() + 15_000;
    let log = await deliveriesOf(apiKey, endpoint.id);
    while (log.data[0]?.status !== "succeeded" && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      log = await deliveriesOf(apiKey, endpoint.id);
    }
    expect(log.data).toHaveLength(1);
    expect(log.data[0]).toMatchObject({ status: "succeeded", attempts: 1, event_type: "email.complained" });
    const reqs = await received(t);
    expect(reqs).toHaveLength(1);
    expect((await verifyWebhook(endpoint.secret, reqs[0]!.headers, reqs[0]!.body)).ok).toBe(true);
  });
});
