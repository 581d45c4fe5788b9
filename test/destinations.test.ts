// Destinations herald refuses (src/lib/destination.ts): at create and patch as a 422 naming the field,
// and again at call time, before any request, for rows stored under a looser setting.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { processWebhookBatch } from "../queues/webhooks";
import type { StoredEvent } from "../src/events/message";
import { JsonLogger } from "../src/services/logger";
import { dispatchWebhooks, type WebhookDeliveryMessage } from "../src/webhooks/outbound/dispatch";
import { call, expectProblem, newTenant, withDb } from "./helpers";
import { address, captured, stubs } from "./providers/helpers";
import type { ReceivedWebhook } from "./setup/webhook-receiver";

const s = stubs();
const RECEIVER = (env as Env & { TEST_WEBHOOK_URL: string }).TEST_WEBHOOK_URL;
/** Production: DEV_ALLOW_LOOPBACK unset. */
const PROD = { DEV_ALLOW_LOOPBACK: "" };

/** Loopback in every spelling the URL parser folds to it, private ranges, metadata and internal names. */
const REFUSED_URLS = [
  "http://127.0.0.1:8787/",
  "http://2130706433/",
  "http://0x7f.1/",
  "https://127.1/",
  "https://localhost/",
  "https://api.localhost/",
  "https://[::1]/",
  "https://[::ffff:127.0.0.1]/",
  "https://10.0.0.1/",
  "https://172.16.5.4/",
  "https://192.168.1.1/",
  "https://100.64.0.1/",
  "https://169.254.169.254/latest/meta-data/",
  "https://[::ffff:169.254.169.254]/",
  "https://0.0.0.0/",
  "https://224.0.0.1/",
  "https://[fd00::1]/",
  "https://[fe80::1]/",
  "https://metadata.google.internal/computeMetadata/v1/",
  "https://printer.local/",
  "https://metadata/",
];

/** Refused even on the local stack: only loopback is let through there. */
const REFUSED_EVEN_IN_DEV = [
  "https://10.0.0.1/",
  "https://169.254.169.254/",
  "https://[fd00::1]/",
  "https://metadata.google.internal/",
  "http://api.example.com/",
];

async function fieldsOf(res: Response): Promise<string[]> {
  return ((await expectProblem(res, 422, "validation_failed")).errors ?? []).map((e) => e.field);
}

describe("provider destinations", () => {
  it("in production, refuses provider URLs to loopback, private, link-local and internal addresses, naming the field", async () => {
    const { apiKey } = await newTenant();
    const post = (json: unknown) => call("/v1/providers", { method: "POST", token: apiKey, json, env: PROD });
    for (const url of REFUSED_URLS) {
      expect([url, await fieldsOf(await post({ name: "s", kind: "sink", config: { url } }))]).toEqual([url, ["body.config.url"]]);
      const base = url.replace(/\/$/, "");
      expect([
        url,
        await fieldsOf(await post({ name: "r", kind: "resend", config: { base_url: base }, credentials: { api_key: "re_x" } })),
      ]).toEqual([url, ["body.config.base_url"]]);
    }
    const smtp = (host: string) =>
      post({ name: "m", kind: "smtp", config: { host, port: 587 }, credentials: { username: "u", password: "p" } });
    for (const host of [
      "127.0.0.1",
      "localhost",
      "2130706433",
      "0x7f.1",
      "10.1.2.3",
      "169.254.169.254",
      "::1",
      "::ffff:10.0.0.1",
      "smtp.internal",
    ]) {
      expect([host, await fieldsOf(await smtp(host))]).toEqual([host, ["body.config.host"]]);
    }
    const refused = await expectProblem(
      await post({ name: "s", kind: "sink", config: { url: "https://169.254.169.254/" } }),
      422,
      "validation_failed",
    );
    expect(refused.errors![0]!.message).toMatch(/public address.*link-local/);

    expect((await post({ name: "s", kind: "sink", config: { url: "https://sink.example.com/in" } })).status).toBe(201);
    expect((await post({ name: "r", kind: "resend", credentials: { api_key: "re_x" } })).status).toBe(201);
    expect(
      (
        await post({
          name: "g",
          kind: "ses",
          config: { region: "eu-west-1" },
          credentials: { access_key_id: "AKIAHERALDTEST0001", secret_access_key: "x".repeat(20) },
        })
      ).status,
    ).toBe(201);
    expect((await smtp("smtp.example.com")).status).toBe(201);
  });

  it("on the local stack (DEV_ALLOW_LOOPBACK=1) allows loopback and plain http to it, and nothing else", async () => {
    const { apiKey } = await newTenant();
    const post = (json: unknown) => call("/v1/providers", { method: "POST", token: apiKey, json });
    expect((await post({ name: "s", kind: "sink", config: { url: "http://2130706433:9/" } })).status).toBe(201);
    expect((await post({ name: "s", kind: "sink", config: { url: "http://localhost:9/" } })).status).toBe(201);
    for (const url of REFUSED_EVEN_IN_DEV) {
      expect([url, await fieldsOf(await post({ name: "s", kind: "sink", config: { url } }))]).toEqual([url, ["body.config.url"]]);
    }
  });

  it("refuses a patched config the same way", async () => {
    const { apiKey } = await newTenant();
    const created = await call("/v1/providers", {
      method: "POST",
      token: apiKey,
      json: { name: "s", kind: "sink", config: { url: "https://sink.example.com/" } },
      env: PROD,
    });
    const { id } = (await created.json()) as { id: string };
    const patch = (json: unknown) => call(`/v1/providers/${id}`, { method: "PATCH", token: apiKey, json, env: PROD });
    expect(await fieldsOf(await patch({ config: { url: "https://169.254.169.254/" } }))).toEqual(["body.config.url"]);
    expect(await fieldsOf(await patch({ config: { url: "http://0x7f.1/" } }))).toEqual(["body.config.url"]);
  });

  it("at call time, a stored destination that is now refused fails the test send as misconfigured, before any request", async () => {
    const { apiKey } = await newTenant();
    // Stored on the local stack, where the stub's loopback address is allowed…
    const created = await call("/v1/providers", {
      method: "POST",
      token: apiKey,
      json: { name: "s", kind: "sink", config: { url: s.sinkFaultUrl }, credentials: { token: "sink-token" } },
    });
    const { id } = (await created.json()) as { id: string };
    const to = address("refused");
    // …and tested by a deployment without DEV_ALLOW_LOOPBACK.
    const res = await call(`/v1/providers/${id}/test`, { method: "POST", token: apiKey, json: { to }, env: PROD });
    expect(res.status).toBe(200);
    const result = (await res.json()) as { status: string; failure_kind: string; error: string };
    expect(result).toMatchObject({ status: "failed", failure_kind: "misconfigured" });
    expect(result.error).toMatch(/refuses to send to this provider: config\.url must be a public address/);
    expect(await captured("sink", to)).toEqual([]);

    // The same provider on the local stack still sends: the refusal came from the setting alone.
    const local = await call(`/v1/providers/${id}/test`, { method: "POST", token: apiKey, json: { to } });
    expect(((await local.json()) as { status: string }).status).toBe("accepted");
    expect(await captured("sink", to)).toHaveLength(1);
  });
});

const tag = () => `d${crypto.randomUUID().slice(0, 12)}`;

async function received(t: string): Promise<ReceivedWebhook[]> {
  return (await (await fetch(`${RECEIVER}/_received?tag=${t}`)).json()) as ReceivedWebhook[];
}

/** Queues one event for the tenant's endpoints, as the events consumer would, and returns the messages. */
async function dispatchOne(tenantId: string): Promise<WebhookDeliveryMessage[]> {
  const sent: WebhookDeliveryMessage[] = [];
  const queue = {
    sendBatch: async (ms: Iterable<MessageSendRequest<WebhookDeliveryMessage>>) => void sent.push(...[...ms].map((m) => m.body)),
  } as unknown as Queue;
  const event: StoredEvent = {
    id: crypto.randomUUID(),
    tenantId,
    type: "delivered",
    occurredAt: new Date(),
    messageId: crypto.randomUUID(),
    campaignId: null,
    email: "ada@example.test",
    url: null,
    data: {},
  } as unknown as StoredEvent;
  await withDb((db) => db.transaction((tx) => dispatchWebhooks(tx, { ...env, WEBHOOKS_QUEUE: queue }, tenantId, [event])));
  return sent;
}

/** Runs the webhooks consumer under `overrides`, recording acks and retries. */
async function consume(bodies: unknown[], overrides: Partial<Env> = {}) {
  const acked: string[] = [];
  const retried: string[] = [];
  const messages = bodies.map((body, i) => ({
    id: `x${i}`,
    timestamp: new Date(),
    attempts: 1,
    body,
    ack: () => acked.push(`x${i}`),
    retry: () => retried.push(`x${i}`),
  }));
  const batch = { queue: "herald-webhooks", messages, ackAll: () => {}, retryAll: () => {} } as unknown as MessageBatch;
  const ctx = createExecutionContext();
  await processWebhookBatch(batch, { ...env, ...overrides }, ctx, new JsonLogger({}, "error", () => {}));
  await waitOnExecutionContext(ctx);
  return { acked, retried };
}

describe("webhook endpoint destinations", () => {
  it("in production, refuses endpoint URLs to loopback, private, link-local and internal addresses on create and patch", async () => {
    const { apiKey } = await newTenant();
    for (const url of REFUSED_URLS) {
      const res = await call("/v1/webhooks", { method: "POST", token: apiKey, json: { url }, env: PROD });
      expect([url, await fieldsOf(res)]).toEqual([url, ["body.url"]]);
    }
    const ok = await call("/v1/webhooks", { method: "POST", token: apiKey, json: { url: "https://hooks.example.com/herald" }, env: PROD });
    expect(ok.status).toBe(201);
    const { id } = (await ok.json()) as { id: string };
    for (const url of ["http://2130706433/hook", "https://169.254.169.254/", "https://[::ffff:10.0.0.1]/"]) {
      const res = await call(`/v1/webhooks/${id}`, { method: "PATCH", token: apiKey, json: { url }, env: PROD });
      expect([url, await fieldsOf(res)]).toEqual([url, ["body.url"]]);
    }
  });

  it("on the local stack allows loopback endpoints, and still refuses private and metadata ones", async () => {
    const { apiKey } = await newTenant();
    expect((await call("/v1/webhooks", { method: "POST", token: apiKey, json: { url: "http://127.0.0.2:9/hook" } })).status).toBe(201);
    for (const url of REFUSED_EVEN_IN_DEV) {
      expect([url, await fieldsOf(await call("/v1/webhooks", { method: "POST", token: apiKey, json: { url } }))]).toEqual([
        url,
        ["body.url"],
      ]);
    }
  });

  it("at delivery time, a stored endpoint that is now refused fails the delivery without a request", async () => {
    const t = tag();
    const tenant = await newTenant();
    const created = await call("/v1/webhooks", { method: "POST", token: tenant.apiKey, json: { url: `${RECEIVER}/ok/${t}` } });
    const endpoint = (await created.json()) as { id: string };
    const messages = await dispatchOne(tenant.tenantId);
    expect(messages).toHaveLength(1);

    const { acked, retried } = await consume(messages, PROD);
    expect(acked).toHaveLength(1);
    expect(retried).toEqual([]);
    expect(await received(t)).toEqual([]);
    const res = await call(`/v1/webhooks/${endpoint.id}/deliveries/${messages[0]!.delivery_id}`, { token: tenant.apiKey });
    const delivery = (await res.json()) as { status: string; attempts: number; response_status: number | null; error: string };
    expect(delivery).toMatchObject({ status: "failed", attempts: 0, response_status: null });
    expect(delivery.error).toMatch(/^not sent: the endpoint URL must be a public address/);
  });
});
