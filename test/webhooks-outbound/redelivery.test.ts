import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { verifyWebhook } from "../../src/webhooks/outbound/sign";
import { call, expectProblem, newTenant } from "../helpers";
import { RECEIVER, type Delivery, createEndpoint, deliveriesOf, json, received, tag } from "./helpers";
import { captureQueue, consume, dispatch, event, oneDelivery } from "./queue";

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
