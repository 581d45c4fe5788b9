// The webhooks consumer: what it POSTs, signed over the exact bytes, and what verifyWebhook accepts.
import { describe, expect, it } from "vitest";
import { signWebhook, verifyWebhook } from "../../src/webhooks/outbound/sign";
import { call, newTenant } from "../helpers";
import { type Delivery, createEndpoint, json, received } from "./helpers";
import { consume, oneDelivery } from "./queue";

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
});
