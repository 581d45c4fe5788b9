import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { EventMessage } from "../src/events/message";
import worker from "../src/index";
import { uuidv7 } from "../src/lib/ids";
import { toEventInputs } from "../src/routes/v1/inbound";
import { createProvider, deliver, recordingQueue } from "./inbound-helpers";
import { basicAuth, mailgunSignature, sendgridSigner, snsSigner, svixHeaders, svixSecret } from "./inbound-signers";
import { call, expectProblem, newTenant, nowSeconds, withDb } from "./helpers";

async function accepted(r: { res: Response; sent: EventMessage[] }, received: number) {
  const text = await r.res.text();
  expect(r.res.status, text).toBe(200);
  expect(JSON.parse(text)).toEqual({ received });
  expect(r.sent).toHaveLength(received);
  return r.sent;
}

describe("POST /v1/webhooks/inbound/:provider_id", () => {
  it("is in the OpenAPI document, without bearer security", async () => {
    const doc = (await (await call("/openapi.json")).json()) as { paths: Record<string, Record<string, { security?: unknown }>> };
    const op = doc.paths["/v1/webhooks/inbound/{provider_id}"]?.post;
    expect(op).toBeDefined();
    expect(op!.security).toBeUndefined();
  });

  it("resend (svix): verifies the signature and queues the event for the provider's tenant", async () => {
    const { apiKey, tenantId } = await newTenant();
    const secret = svixSecret();
    const { id, text } = await createProvider(apiKey, { kind: "resend", credentials: { api_key: "re_test", webhook_secret: secret } });
    expect(text).not.toContain(secret);
    const heraldId = uuidv7();
    const body = JSON.stringify({
      type: "email.bounced",
      created_at: "2025-06-01T11:59:00.000Z",
      data: {
        email_id: "re-msg-1",
        to: ["Ann@Example.com"],
        tags: [{ name: "herald_id", value: heraldId }],
        bounce: { type: "Permanent", subType: "General" },
      },
    });
    const svixId = `msg_${crypto.randomUUID()}`;
    const sent = await accepted(await deliver(id, body, await svixHeaders(secret, svixId, nowSeconds(), body)), 1);
    expect(sent[0]).toEqual({
      type: "event",
      tenant_id: tenantId,
      event: {
        type: "bounced",
        message_id: heraldId,
        email: "ann@example.com",
        source: "resend",
        provider_event_id: svixId,
        occurred_at: "2025-06-01T11:59:00.000Z",
        bounce_type: "hard",
        data: { provider_message_id: "re-msg-1", details: { bounceType: "Permanent", subType: "General" } },
      },
    });

    // A wrong secret, a tampered body, or no signature at all: 401, and nothing is queued.
    const tampered = await deliver(id, body.replace("Permanent", "Transient"), await svixHeaders(secret, svixId, nowSeconds(), body));
    expect((await expectProblem(tampered.res, 401, "unauthorized")).detail).toBe("signature does not match");
    expect(tampered.sent).toEqual([]);
    const wrong = await deliver(id, body, await svixHeaders(svixSecret(), svixId, nowSeconds(), body));
    await expectProblem(wrong.res, 401, "unauthorized");
    const unsigned = await deliver(id, body);
    expect((await expectProblem(unsigned.res, 401, "unauthorized")).detail).toBe("missing signature headers");
    const stale = await deliver(id, body, await svixHeaders(secret, svixId, nowSeconds() - 3600, body));
    await expectProblem(stale.res, 401, "unauthorized");

    // Signed but not a Resend webhook: 400.
    const junk = "[1,2,3]";
    const malformed = await deliver(id, junk, await svixHeaders(secret, svixId, nowSeconds(), junk));
    await expectProblem(malformed.res, 400, "bad_request");
    expect(malformed.sent).toEqual([]);
  });

  it("mailgun: verifies the signing key and maps a permanent failure to a hard bounce", async () => {
    const { apiKey, tenantId } = await newTenant();
    const signingKey = `key-${crypto.randomUUID()}`;
    const { id } = await createProvider(apiKey, {
      kind: "mailgun",
      config: { domain: "mg.example.com" },
      credentials: { api_key: "mg-api", webhook_signing_key: signingKey },
    });
    const heraldId = uuidv7();
    const eventData = {
      id: `mg-${crypto.randomUUID()}`,
      event: "failed",
      severity: "permanent",
      reason: "bounce",
      recipient: "bob@example.com",
      timestamp: 1748779140.5,
      "user-variables": { herald_id: heraldId },
      message: { headers: { "message-id": "20250601.mg@mg.example.com" } },
    };
    const body = JSON.stringify({ signature: await mailgunSignature(signingKey, nowSeconds()), "event-data": eventData });
    const [msg] = await accepted(await deliver(id, body), 1);
    expect(msg).toMatchObject({
      tenant_id: tenantId,
      event: {
        type: "bounced",
        message_id: heraldId,
        email: "bob@example.com",
        source: "mailgun",
        provider_event_id: eventData.id,
        bounce_type: "hard",
      },
    });
    expect(msg!.event.data).toMatchObject({ provider_message_id: "20250601.mg@mg.example.com" });

    const forged = JSON.stringify({ signature: await mailgunSignature("not-the-key", nowSeconds()), "event-data": eventData });
    await expectProblem((await deliver(id, forged)).res, 401, "unauthorized");
    await expectProblem((await deliver(id, "not json")).res, 400, "bad_request");
    // An event herald does not track is acknowledged with nothing queued.
    const ignored = JSON.stringify({
      signature: await mailgunSignature(signingKey, nowSeconds()),
      "event-data": { ...eventData, event: "accepted" },
    });
    await accepted(await deliver(id, ignored), 0);
  });

  it("postmark: checks the Basic auth credentials stored on the provider", async () => {
    const { apiKey, tenantId } = await newTenant();
    const { id } = await createProvider(apiKey, {
      kind: "postmark",
      credentials: { server_token: "pm-token", webhook_username: "herald", webhook_password: "s3cret-pass" },
    });
    const heraldId = uuidv7();
    const body = JSON.stringify({
      RecordType: "Open",
      MessageID: "pm-msg-1",
      Recipient: "carol@example.com",
      ReceivedAt: "2025-06-01T11:00:00Z",
      Metadata: { herald_id: heraldId },
    });
    const [msg] = await accepted(await deliver(id, body, basicAuth("herald", "s3cret-pass")), 1);
    expect(msg).toMatchObject({
      tenant_id: tenantId,
      event: {
        type: "opened",
        message_id: heraldId,
        email: "carol@example.com",
        source: "postmark",
        occurred_at: "2025-06-01T11:00:00.000Z",
      },
    });
    const wrong = await deliver(id, body, basicAuth("herald", "guess"));
    await expectProblem(wrong.res, 401, "unauthorized");
    expect(wrong.res.headers.get("www-authenticate")).toMatch(/^Basic/);
    await expectProblem((await deliver(id, body)).res, 401, "unauthorized");
    await expectProblem((await deliver(id, "{", basicAuth("herald", "s3cret-pass"))).res, 400, "bad_request");
  });

  it("sendgrid: verifies the ECDSA signature with the public key from config, one event per array item", async () => {
    const { apiKey, tenantId } = await newTenant();
    const signer = await sendgridSigner();
    const { id } = await createProvider(apiKey, {
      kind: "sendgrid",
      config: { webhook_public_key: signer.publicKey },
      credentials: { api_key: "SG.test" },
    });
    const heraldId = uuidv7();
    const ts = nowSeconds();
    const body = JSON.stringify([
      {
        event: "click",
        email: "dan@example.com",
        timestamp: ts,
        sg_event_id: "sg-1",
        sg_message_id: "sg-msg.1",
        url: "https://example.com/a",
        herald_id: heraldId,
      },
      { event: "open", email: "dan@example.com", timestamp: ts, sg_event_id: "sg-2", sg_message_id: "sg-msg.1", herald_id: "not-a-uuid" },
      { event: "processed", email: "dan@example.com", timestamp: ts, sg_event_id: "sg-3" },
    ]);
    const sent = await accepted(await deliver(id, body, await signer.headers(body, ts)), 2);
    expect(sent.map((m) => m.tenant_id)).toEqual([tenantId, tenantId]);
    expect(sent[0]!.event).toMatchObject({
      type: "clicked",
      message_id: heraldId,
      url: "https://example.com/a",
      provider_event_id: "sg-1",
      source: "sendgrid",
    });
    // A herald_id that is not a UUID names no message.
    expect(sent[1]!.event.type).toBe("opened");
    expect(sent[1]!.event).not.toHaveProperty("message_id");

    const other = await sendgridSigner();
    await expectProblem((await deliver(id, body, await other.headers(body, ts))).res, 401, "unauthorized");
    const notArray = "{}";
    await expectProblem((await deliver(id, notArray, await signer.headers(notArray, ts))).res, 400, "bad_request");
  });

  it("ses: refuses a topic outside the allowlist before downloading anything", async () => {
    const { apiKey } = await newTenant();
    const allowed = "arn:aws:sns:us-east-1:123456789012:herald-events";
    const { id } = await createProvider(apiKey, {
      kind: "ses",
      config: { region: "us-east-1", webhook_topic_arns: [allowed] },
      credentials: { access_key_id: "AKIAIOSFODNN7EXAMPLE", secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" },
    });
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

describe("webhook secrets on providers", () => {
  it("validates each kind's webhook fields, naming them and echoing no secret", async () => {
    const { apiKey } = await newTenant();
    const post = (json: Record<string, unknown>) => call("/v1/providers", { method: "POST", token: apiKey, json: { name: "p", ...json } });
    const fields = async (res: Response) => ((await expectProblem(res, 422, "validation_failed")).errors ?? []).map((e) => e.field);
    expect(await fields(await post({ kind: "resend", credentials: { api_key: "k", webhook_secret: "TOP-SECRET-not-whsec" } }))).toEqual([
      "body.credentials.webhook_secret",
    ]);
    expect(
      await fields(await post({ kind: "sendgrid", config: { webhook_public_key: "not base64!" }, credentials: { api_key: "k" } })),
    ).toEqual(["body.config.webhook_public_key"]);
    expect(
      await fields(
        await post({ kind: "mailgun", config: { domain: "mg.example.com" }, credentials: { api_key: "k", webhook_signing_key: "" } }),
      ),
    ).toEqual(["body.credentials.webhook_signing_key"]);
    expect(await fields(await post({ kind: "postmark", credentials: { server_token: "t", webhook_username: "herald" } }))).toEqual([
      "body.credentials.webhook_password",
    ]);
    expect(
      await fields(await post({ kind: "postmark", credentials: { server_token: "t", webhook_username: "a:b", webhook_password: "p" } })),
    ).toEqual(["body.credentials.webhook_username"]);
    expect(
      await fields(
        await post({
          kind: "ses",
          config: { region: "us-east-1", webhook_topic_arns: ["arn:aws:sqs:us-east-1:123456789012:q"] },
          credentials: { access_key_id: "AKIAIOSFODNN7EXAMPLE", secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" },
        }),
      ),
    ).toEqual(["body.config.webhook_topic_arns.0"]);
    const leak = await post({ kind: "resend", credentials: { api_key: "k", webhook_secret: "TOP-SECRET-not-whsec" } });
    expect(await leak.text()).not.toContain("TOP-SECRET");
  });
});

describe("toEventInputs", () => {
  it("maps verified provider events to events-queue inputs", () => {
    const heraldId = uuidv7();
    expect(
      toEventInputs("sendgrid", [
        {
          providerEventId: "sg-1",
          type: "clicked",
          heraldMessageId: heraldId.toUpperCase(),
          providerMessageId: "sg-msg",
          email: " Eve@Example.COM ",
          occurredAt: "2025-06-01T12:00:00.000Z",
          url: "https://example.com/x",
        },
        {
          providerEventId: "sg-2",
          type: "bounced",
          heraldMessageId: "msg_123",
          occurredAt: "2025-06-01T12:00:00.000Z",
          bounceType: "soft",
          raw: { type: "blocked" },
        },
        {
          providerEventId: "x".repeat(600),
          type: "delivered",
          email: `${"a".repeat(400)}@example.com`,
          url: "u",
          occurredAt: "2025-06-01T12:00:00.000Z",
        },
        { providerEventId: "bad-date", type: "opened", occurredAt: "yesterday" },
      ]),
    ).toEqual([
      {
        type: "clicked",
        message_id: heraldId,
        email: "eve@example.com",
        source: "sendgrid",
        provider_event_id: "sg-1",
        url: "https://example.com/x",
        occurred_at: "2025-06-01T12:00:00.000Z",
        data: { provider_message_id: "sg-msg" },
      },
      {
        type: "bounced",
        source: "sendgrid",
        provider_event_id: "sg-2",
        occurred_at: "2025-06-01T12:00:00.000Z",
        bounce_type: "soft",
        data: { details: { type: "blocked" } },
      },
      {
        type: "delivered",
        source: "sendgrid",
        provider_event_id: "x".repeat(512),
        url: "u",
        occurred_at: "2025-06-01T12:00:00.000Z",
        data: {},
      },
    ]);
  });
});

describe("SNS downloads", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  /** An SES provider, and a SubscriptionConfirmation for its topic signed by a certificate on an SNS host. */
  async function sesConfirmation(subscribeUrl: string) {
    const { apiKey } = await newTenant();
    const topic = "arn:aws:sns:us-east-1:123456789012:herald-events";
    const { id } = await createProvider(apiKey, {
      kind: "ses",
      config: { region: "us-east-1", webhook_topic_arns: [topic] },
      credentials: { access_key_id: "AKIAIOSFODNN7EXAMPLE", secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" },
    });
    const signer = await snsSigner(`https://sns.us-east-1.amazonaws.com/SimpleNotificationService-${crypto.randomUUID()}.pem`);
    const body = await signer.sign(
      {
        Type: "SubscriptionConfirmation",
        MessageId: crypto.randomUUID(),
        Token: "tok",
        TopicArn: topic,
        Message: "confirm",
        SubscribeURL: subscribeUrl,
        Timestamp: new Date().toISOString(),
      },
      "2",
    );
    return { id, signer, body };
  }

  /** Replaces the runtime's fetch: serves the certificate, answers the SubscribeURL with `answer`, records every call. */
  function fakeAws(certUrl: string, pem: string, answer: () => Response) {
    const calls: { url: string; redirect: RequestInit["redirect"] }[] = [];
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = input instanceof Request ? input.url : String(input);
      calls.push({ url, redirect: init?.redirect });
      return url === certUrl ? new Response(pem) : answer();
    });
    return calls;
  }

  it("confirms a subscription on an SNS host without following redirects; a SubscribeURL elsewhere is refused unfetched", async () => {
    const good = `https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=${crypto.randomUUID()}`;
    const ok = await sesConfirmation(good);
    const calls = fakeAws(ok.signer.certUrl, ok.signer.certificatePem, () => new Response("<ConfirmSubscriptionResponse/>"));
    const confirmed = await deliver(ok.id, ok.body);
    expect(await confirmed.res.json()).toEqual({ received: 0, confirmed: true });
    expect(calls.map((c) => c.url)).toEqual([ok.signer.certUrl, good]);
    expect(calls.every((c) => c.redirect === "manual")).toBe(true);

    // An SNS host answering with a redirect: not followed, the confirmation fails.
    vi.restoreAllMocks();
    const moved = await sesConfirmation(`https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&Token=${crypto.randomUUID()}`);
    const movedCalls = fakeAws(
      moved.signer.certUrl,
      moved.signer.certificatePem,
      () => new Response(null, { status: 302, headers: { location: "http://169.254.169.254/latest/meta-data/" } }),
    );
    expect((await expectProblem((await deliver(moved.id, moved.body)).res, 400, "bad_request")).detail).toBe(
      "subscription could not be confirmed",
    );
    expect(movedCalls.some((c) => c.url.includes("169.254"))).toBe(false);
    expect(movedCalls.every((c) => c.redirect === "manual")).toBe(true);

    // Hosts that look like SNS but are not: an S3 bucket named "sns" (anyone's files), a look-alike
    // domain, another port, plain http. Refused before anything is fetched for them.
    for (const url of [
      "https://sns.s3.amazonaws.com/?Action=ConfirmSubscription",
      "https://sns.s3-us-west-2.amazonaws.com/?Action=ConfirmSubscription",
      "https://sns.us-east-1.amazonaws.com.evil.example/?Action=ConfirmSubscription",
      "https://sns.us-east-1.amazonaws.com:8443/?Action=ConfirmSubscription",
      "http://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription",
    ]) {
      vi.restoreAllMocks();
      const evil = await sesConfirmation(url);
      const evilCalls = fakeAws(evil.signer.certUrl, evil.signer.certificatePem, () => new Response("<ConfirmSubscriptionResponse/>"));
      expect((await expectProblem((await deliver(evil.id, evil.body)).res, 400, "bad_request")).detail, url).toBe(
        "SubscribeURL is not an SNS URL",
      );
      expect(evilCalls.map((c) => c.url)).toEqual([evil.signer.certUrl]);
    }
  });
});

describe("third-party text", () => {
  it("a signed Mailgun payload with lone surrogates stores fine: U+FFFD in their place, clipped by code points", async () => {
    const { apiKey, tenantId } = await newTenant();
    const signingKey = `key-${crypto.randomUUID()}`;
    const { id } = await createProvider(apiKey, {
      kind: "mailgun",
      config: { domain: "mg.example.com" },
      credentials: { api_key: "mg-api", webhook_signing_key: signingKey },
    });
    const uuid = crypto.randomUUID();
    // JSON escapes: the text is valid UTF-8, and JSON.parse turns "\ud800" into a lone surrogate.
    const body =
      `{"signature":${JSON.stringify(await mailgunSignature(signingKey, nowSeconds()))},"event-data":{"id":"mg-\\ud800-${uuid}","event":"failed","severity":"permanent",` +
      `"reason":"\\udc00${"\\ud83d\\ude00".repeat(60)}","recipient":"Lone\\ud800@Example.test","timestamp":${nowSeconds()},` +
      `"message":{"headers":{"message-id":"mid-\\udfff"}}}}`;
    const { res, sent } = await deliver(id, body);
    expect(await res.json()).toEqual({ received: 1 });

    const batch = createMessageBatch(
      "herald-events",
      sent.map((m, i) => ({ id: `s${i}`, timestamp: new Date(), attempts: 1, body: m })),
    );
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks).toEqual(["s0"]);

    const rows = await withDb(
      async (db) =>
        (
          await db.execute<{
            email: string;
            provider_event_id: string;
            data: { provider_message_id: string; details: { reason: string } };
          }>(sql`
        SELECT email, provider_event_id, data FROM events WHERE tenant_id = ${tenantId}`)
        ).rows,
    );
    expect(rows).toHaveLength(1);
    const [row] = rows;
    expect(row!.email).toBe("lone\ufffd@example.test");
    expect(row!.provider_event_id).toBe(`mg-\ufffd-${uuid}`);
    expect(row!.data.provider_message_id).toBe("mid-\ufffd");
    // Mailgun's reason is kept to 50 code points: the pair after the cut is dropped whole, not halved.
    expect(row!.data.details.reason).toBe(`\ufffd${"\ud83d\ude00".repeat(48)}…`);
    expect(row!.data.details.reason.isWellFormed()).toBe(true);
  });
});
