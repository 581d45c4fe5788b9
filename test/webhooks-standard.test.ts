// Outbound webhooks under the Standard Webhooks scheme (an endpoint's signature_scheme "standard"),
// checked as a receiver would: every delivery that reaches the local receiver is verified with the
// `standardwebhooks` library, never with herald's own code. The clock is moved with vitest's fake
// Date, so a rotation's overlap ends without waiting.
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { StoredEvent } from "../src/events/message";
import worker from "../src/index";
import { dispatchWebhooks, type WebhookDeliveryMessage } from "../src/webhooks/outbound/dispatch";
import { ROTATION_OVERLAP_SECONDS } from "../src/webhooks/outbound/headers";
import { call, expectProblem, newTenant, withDb, type TestTenant } from "./helpers";
import type { ReceivedWebhook } from "./setup/webhook-receiver";

const RECEIVER = (env as Env & { TEST_WEBHOOK_URL: string }).TEST_WEBHOOK_URL;

interface Endpoint {
  id: string;
  signature_scheme: "herald" | "standard";
  previous_secret_expires_at: string | null;
  updated_at: string;
  secret: string;
}

afterEach(() => {
  vi.useRealTimers();
});

/** Moves the clock herald and the library both read (Date only: I/O timers stay real). */
function clockAt(ms: number) {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(ms);
}

async function ok<T>(res: Response, status: number): Promise<T> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  return JSON.parse(text) as T;
}

/** A tenant with one endpoint at the receiver under a fresh tag. */
async function setUp(route: string, body: Record<string, unknown> = { signature_scheme: "standard" }) {
  const t = `s${crypto.randomUUID().slice(0, 12)}`;
  const tenant = await newTenant();
  const endpoint = await ok<Endpoint>(
    await call("/v1/webhooks", { method: "POST", token: tenant.apiKey, json: { url: `${RECEIVER}/${route}/${t}`, ...body } }),
    201,
  );
  return { t, tenant, endpoint };
}

/** Stores nothing but the delivery: dispatches one event and hands back the message it queued. */
async function deliveryFor(tenantId: string): Promise<WebhookDeliveryMessage> {
  const sent: WebhookDeliveryMessage[] = [];
  const queue = {
    sendBatch: async (m: Iterable<{ body: WebhookDeliveryMessage }>) => void sent.push(...[...m].map((x) => x.body)),
  } as unknown as Queue;
  const event: StoredEvent = {
    id: crypto.randomUUID(),
    tenantId,
    type: "delivered",
    occurredAt: new Date("2026-11-22T10:00:00.000Z"),
    messageId: crypto.randomUUID(),
    campaignId: null,
    email: "ada@example.test",
    url: null,
    data: {},
  };
  await withDb((db) => db.transaction((tx) => dispatchWebhooks(tx, { ...env, WEBHOOKS_QUEUE: queue }, tenantId, [event])));
  expect(sent).toHaveLength(1);
  return sent[0]!;
}

let seq = 0;
/** Through the worker's real queue export, as the runtime delivers a batch. */
async function consume(message: WebhookDeliveryMessage, attempts = 1) {
  const batch = createMessageBatch("herald-webhooks", [{ id: `std${++seq}`, timestamp: new Date(), attempts, body: message }]);
  const ctx = createExecutionContext();
  await worker.queue(batch, env, ctx);
  return getQueueResult(batch, ctx);
}

async function received(t: string): Promise<ReceivedWebhook[]> {
  return (await (await fetch(`${RECEIVER}/_received?tag=${t}`)).json()) as ReceivedWebhook[];
}

/** What a receiver's handler does with a request: the library's verdict, or its error's message. */
function verdict(secret: string, req: ReceivedWebhook): unknown {
  try {
    return new Webhook(secret).verify(req.body, req.headers);
  } catch (err) {
    return (err as Error).message;
  }
}

const rotate = async (tenant: TestTenant, id: string) =>
  ok<Endpoint>(await call(`/v1/webhooks/${id}/rotate-secret`, { method: "POST", token: tenant.apiKey }), 200);

describe("the signature_scheme field", () => {
  it("defaults to herald, takes standard on create and patch, and is returned on every read", async () => {
    const { apiKey } = await newTenant();
    const create = async (json: Record<string, unknown>) =>
      ok<Endpoint>(await call("/v1/webhooks", { method: "POST", token: apiKey, json }), 201);
    const plain = await create({ url: "https://example.com/a" });
    const standard = await create({ url: "https://example.com/b", signature_scheme: "standard" });
    expect(plain).toMatchObject({ signature_scheme: "herald", previous_secret_expires_at: null });
    expect(standard).toMatchObject({ signature_scheme: "standard", previous_secret_expires_at: null });
    // The spec's serialization: whsec_ + base64 of at least 24 random bytes (herald's are 32).
    expect(standard.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);

    const { data } = await ok<{ data: Endpoint[] }>(await call("/v1/webhooks", { token: apiKey }), 200);
    expect(data.map((e) => [e.id, e.signature_scheme])).toEqual([
      [standard.id, "standard"],
      [plain.id, "herald"],
    ]);
    const patched = await ok<Endpoint>(
      await call(`/v1/webhooks/${plain.id}`, { method: "PATCH", token: apiKey, json: { signature_scheme: "standard" } }),
      200,
    );
    expect(patched.signature_scheme).toBe("standard");
    expect((await ok<Endpoint>(await call(`/v1/webhooks/${plain.id}`, { token: apiKey }), 200)).signature_scheme).toBe("standard");

    type Schemas = Record<string, { properties: Record<string, { enum?: string[]; default?: string }>; required?: string[] }>;
    const doc = await ok<{ components: { schemas: Schemas } }>(await call("/openapi.json"), 200);
    const { CreateWebhookEndpoint, UpdateWebhookEndpoint, WebhookEndpoint } = doc.components.schemas;
    expect(CreateWebhookEndpoint!.properties.signature_scheme).toMatchObject({ enum: ["herald", "standard"], default: "herald" });
    expect(UpdateWebhookEndpoint!.properties.signature_scheme).toMatchObject({ enum: ["herald", "standard"] });
    expect(WebhookEndpoint!.required).toEqual(expect.arrayContaining(["signature_scheme", "previous_secret_expires_at"]));
  });

  it("refuses an unknown scheme with a 422 naming body.signature_scheme", async () => {
    const { apiKey } = await newTenant();
    for (const signature_scheme of ["svix", "Standard", null, 1]) {
      const p = await expectProblem(
        await call("/v1/webhooks", { method: "POST", token: apiKey, json: { url: "https://example.com/x", signature_scheme } }),
        422,
        "validation_failed",
      );
      expect([signature_scheme, p.errors!.map((e) => e.field)]).toEqual([signature_scheme, ["body.signature_scheme"]]);
    }
    const { id } = await ok<Endpoint>(
      await call("/v1/webhooks", { method: "POST", token: apiKey, json: { url: "https://example.com/x" } }),
      201,
    );
    const p = await expectProblem(
      await call(`/v1/webhooks/${id}`, { method: "PATCH", token: apiKey, json: { signature_scheme: "v2" } }),
      422,
      "validation_failed",
    );
    expect(p.errors!.map((e) => e.field)).toEqual(["body.signature_scheme"]);
  });

  it("keeps another tenant's endpoint out of reach: changing its scheme or rotating it is a 404 and changes nothing", async () => {
    const { t, tenant, endpoint } = await setUp("ok", {});
    const stranger = await newTenant();
    for (const [method, path, json] of [
      ["PATCH", `/v1/webhooks/${endpoint.id}`, { signature_scheme: "standard" }],
      ["POST", `/v1/webhooks/${endpoint.id}/rotate-secret`, undefined],
    ] as const) {
      await expectProblem(await call(path, { method, token: stranger.apiKey, json }), 404, "not_found");
    }
    const mine = await ok<Endpoint>(await call(`/v1/webhooks/${endpoint.id}`, { token: tenant.apiKey }), 200);
    expect(mine).toMatchObject({ signature_scheme: "herald", previous_secret_expires_at: null, updated_at: endpoint.updated_at });
    await consume(await deliveryFor(tenant.tenantId));
    const [req] = await received(t);
    expect(req!.headers["herald-webhook-id"]).toBeTruthy();
    expect(req!.headers["webhook-signature"]).toBeUndefined();
  });
});

describe("deliveries to a standard endpoint", () => {
  it("verify with the standardwebhooks library, under one webhook-id across retries and redeliveries", async () => {
    const { t, tenant, endpoint } = await setUp("fail-first/1/503");
    const message = await deliveryFor(tenant.tenantId);
    expect((await consume(message, 1)).retryMessages).toHaveLength(1);
    expect((await consume(message, 2)).explicitAcks).toHaveLength(1);
    const queue = { sendBatch: async () => {} } as unknown as Queue;
    const path = `/v1/webhooks/${endpoint.id}/deliveries/${message.delivery_id}/redeliver`;
    await ok(await call(path, { method: "POST", token: tenant.apiKey, env: { WEBHOOKS_QUEUE: queue } }), 202);
    await consume(message, 1);

    const reqs = await received(t);
    expect(reqs.map((r) => r.answered)).toEqual([503, 200, 200]);
    for (const req of reqs) {
      expect(verdict(endpoint.secret, req)).toEqual(JSON.parse(req.body));
      expect(req.headers["webhook-id"]).toBe(message.delivery_id);
      expect(req.headers["webhook-timestamp"]).toMatch(/^\d{10}$/);
      expect(req.headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
      expect(Object.keys(req.headers).filter((h) => h.startsWith("herald-webhook-"))).toEqual([]);
    }
    const [req] = reqs;
    // What the library refuses: another body, another secret, a timestamp outside its five minutes.
    expect(verdict(endpoint.secret, { ...req!, body: req!.body.replace("ada@", "eve@") })).toBe("No matching signature found");
    expect(verdict((await setUp("ok")).endpoint.secret, req!)).toBe("No matching signature found");
    clockAt((Number(req!.headers["webhook-timestamp"]) + 301) * 1000);
    expect(verdict(endpoint.secret, req!)).toBe("Message timestamp too old");
  });

  it("carry signatures under the old and the new secret during a rotation's overlap, then under the new one only", async () => {
    const { t, tenant, endpoint } = await setUp("ok");
    const first = await rotate(tenant, endpoint.id);
    expect(first.secret).not.toBe(endpoint.secret);
    expect(Date.parse(first.previous_secret_expires_at!) - Date.parse(first.updated_at)).toBe(ROTATION_OVERLAP_SECONDS * 1000);
    expect((await ok<Endpoint>(await call(`/v1/webhooks/${endpoint.id}`, { token: tenant.apiKey }), 200)).previous_secret_expires_at).toBe(
      first.previous_secret_expires_at,
    );

    await consume(await deliveryFor(tenant.tenantId));
    const [during] = await received(t);
    expect(during!.headers["webhook-signature"]!.split(" ")).toHaveLength(2);
    expect(verdict(first.secret, during!)).toEqual(JSON.parse(during!.body));
    expect(verdict(endpoint.secret, during!)).toEqual(JSON.parse(during!.body));

    // A second rotation within the overlap replaces it: only the two latest secrets sign.
    const second = await rotate(tenant, endpoint.id);
    await consume(await deliveryFor(tenant.tenantId));
    const again = (await received(t))[1]!;
    expect([second.secret, first.secret, endpoint.secret].map((s) => typeof verdict(s, again))).toEqual(["object", "object", "string"]);

    // One second after the overlap: the replaced secret no longer signs, and reads say so.
    clockAt(Date.parse(second.previous_secret_expires_at!) + 1000);
    await consume(await deliveryFor(tenant.tenantId));
    const after = (await received(t))[2]!;
    expect(after.headers["webhook-signature"]!.split(" ")).toHaveLength(1);
    expect(verdict(second.secret, after)).toEqual(JSON.parse(after.body));
    expect(verdict(first.secret, after)).toBe("No matching signature found");
    expect(
      (await ok<Endpoint>(await call(`/v1/webhooks/${endpoint.id}`, { token: tenant.apiKey }), 200)).previous_secret_expires_at,
    ).toBeNull();
  });

  it("switch schemes by PATCH with the same secret; a herald endpoint's rotation keeps no overlap", async () => {
    const { t, tenant, endpoint } = await setUp("ok", {});
    const rotated = await rotate(tenant, endpoint.id);
    expect(rotated.previous_secret_expires_at).toBeNull();
    const message = await deliveryFor(tenant.tenantId);
    await ok(
      await call(`/v1/webhooks/${endpoint.id}`, { method: "PATCH", token: tenant.apiKey, json: { signature_scheme: "standard" } }),
      200,
    );
    await consume(message);
    const [req] = await received(t);
    // The rotation happened under "herald", so no replaced secret comes back to sign now.
    expect(verdict(rotated.secret, req!)).toEqual(JSON.parse(req!.body));
    expect(req!.headers["webhook-signature"]!.split(" ")).toHaveLength(1);
  });
});
