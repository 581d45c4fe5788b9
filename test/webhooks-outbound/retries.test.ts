// The webhooks consumer: failed attempts, backoff, redirects, dead letters, and messages it must not deliver.
import { describe, expect, it } from "vitest";
import { verifyWebhook } from "../../src/webhooks/outbound/sign";
import { webhookRetryDelaySeconds } from "../../queues/webhooks";
import { call, newTenant } from "../helpers";
import { type Delivery, createEndpoint, deliveriesOf, json, received } from "./helpers";
import { captureQueue, consume, consumeRecorded, dispatch, event, oneDelivery } from "./queue";

describe("the webhooks consumer", () => {
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
