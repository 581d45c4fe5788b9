// The inbound webhook route itself: documented without bearer security, the provider id decides the
// tenant, unknown or unconfigured providers refused, SES topics checked before any download.
import { describe, expect, it } from "vitest";
import { uuidv7 } from "../../src/lib/ids";
import { createProvider, deliver, recordingQueue } from "../inbound-helpers";
import { svixHeaders, svixSecret } from "../inbound-signers";
import { call, expectProblem, newTenant, nowSeconds } from "../helpers";
import { sesProvider } from "./helpers";

describe("POST /v1/webhooks/inbound/:provider_id", () => {
  it("is in the OpenAPI document, without bearer security", async () => {
    const doc = (await (await call("/openapi.json")).json()) as { paths: Record<string, Record<string, { security?: unknown }>> };
    const op = doc.paths["/v1/webhooks/inbound/{provider_id}"]?.post;
    expect(op).toBeDefined();
    expect(op!.security).toBeUndefined();
  });

  it("ses: refuses a topic outside the allowlist before downloading anything", async () => {
    const allowed = "arn:aws:sns:us-east-1:123456789012:herald-events";
    const { id } = await sesProvider(allowed);
    const body = JSON.stringify({
      Type: "Notification",
      MessageId: crypto.randomUUID(),
      TopicArn: "arn:aws:sns:us-east-1:999999999999:someone-else",
      Message: "{}",
      Timestamp: new Date().toISOString(),
      SignatureVersion: "2",
      Signature: "c2lnbmF0dXJl",
      SigningCertURL: "https://sns.us-east-1.amazonaws.com/cert.pem",
    });
    expect(
      (await expectProblem((await deliver(id, body, { "content-type": "text/plain; charset=UTF-8" })).res, 401, "unauthorized")).detail,
    ).toBe("topic is not allowed");
    await expectProblem((await deliver(id, JSON.stringify({ Type: "Nonsense" }))).res, 400, "bad_request");
  });

  it("is a 404 for an unknown provider, a malformed id or a kind without webhooks; unconfigured is a 401", async () => {
    const { apiKey } = await newTenant();
    const body = JSON.stringify({ type: "email.delivered", data: {} });
    await expectProblem((await deliver(uuidv7(), body)).res, 404, "not_found");
    await expectProblem((await deliver("not-a-uuid", body)).res, 404, "not_found");
    const sink = await createProvider(apiKey, { kind: "sink", config: { url: "https://sink.example.com/" } });
    await expectProblem((await deliver(sink.id, body)).res, 404, "not_found");

    const bare = await createProvider(apiKey, { kind: "resend", credentials: { api_key: "re_test" } });
    const unconfigured = await deliver(bare.id, body, await svixHeaders(svixSecret(), "msg_1", nowSeconds(), body));
    expect((await expectProblem(unconfigured.res, 401, "unauthorized")).detail).toMatch(/not configured/);
  });

  it("needs no bearer token, and ignores one: the provider's secret decides", async () => {
    const owner = await newTenant();
    const other = await newTenant();
    const secret = svixSecret();
    const { id } = await createProvider(owner.apiKey, { kind: "resend", credentials: { api_key: "re_test", webhook_secret: secret } });
    const body = JSON.stringify({
      type: "email.delivered",
      created_at: "2025-06-01T11:59:00.000Z",
      data: { email_id: "x", to: ["a@example.com"] },
    });
    const recorder = recordingQueue();
    const res = await call(`/v1/webhooks/inbound/${id}`, {
      method: "POST",
      token: other.apiKey,
      body,
      headers: await svixHeaders(secret, "msg_2", nowSeconds(), body),
      env: { EVENTS_QUEUE: recorder.queue },
    });
    expect(res.status, await res.clone().text()).toBe(200);
    // Filed under the provider's tenant, whoever's token came along.
    expect(recorder.sent.map((m) => m.tenant_id)).toEqual([owner.tenantId]);
  });
});
