import { beforeAll, describe, expect, it } from "vitest";
import {
  verifyInbound,
  type InboundProviderKind,
  type InboundRequest,
  type InboundSecrets,
  type VerifyOptions,
} from "../src/webhooks/inbound";
import {
  basicAuth,
  mailgunSignature,
  request,
  sendgridSigner,
  snsSigner,
  svixHeaders,
  svixSecret,
  type SendgridSigner,
  type SnsSigner,
} from "./inbound-signers";

const NOW = Date.parse("2025-06-01T12:00:00.000Z");
const NOW_S = NOW / 1000;
const NOT_CONFIGURED = { ok: false, status: 401, reason: "webhook verification is not configured for this provider" };

/** A fetchText that fails the test if called: the request must be rejected before any download. */
const noFetch = async (url: string): Promise<string> => {
  throw new Error(`unexpected fetch of ${url}`);
};

const SES_TOPIC = "arn:aws:sns:us-east-1:123456789012:herald-events";

/** SES needs its topic allowlist; the SES tests run with the test topic unless they say otherwise. */
function verify(kind: InboundProviderKind, req: InboundRequest, secrets: InboundSecrets = {}, opts: Partial<VerifyOptions> = {}) {
  const withTopic = kind === "ses" && !("sesTopicArns" in secrets) ? { ...secrets, sesTopicArns: [SES_TOPIC] } : secrets;
  return verifyInbound(kind, req, withTopic, { now: NOW, fetchText: noFetch, ...opts });
}

describe("ses (SNS)", () => {
  const TOPIC = SES_TOPIC;
  const certUrl = () => `https://sns.us-east-1.amazonaws.com/SimpleNotificationService-${crypto.randomUUID()}.pem`;
  let signer: SnsSigner;
  let other: SnsSigner;

  beforeAll(async () => {
    signer = await snsSigner(certUrl());
    other = await snsSigner(certUrl());
  });

  /** Serves the signer's certificate (and answers SubscribeURL) while recording what was fetched. */
  function server(s: SnsSigner = signer) {
    const fetched: string[] = [];
    const fetchText = async (url: string) => {
      fetched.push(url);
      if (url === s.certUrl) return s.certificatePem;
      if (url.includes("Action=ConfirmSubscription")) return "<ConfirmSubscriptionResponse/>";
      throw new Error("404");
    };
    return { fetched, fetchText };
  }

  const sesMessage = (event: Record<string, unknown>) =>
    JSON.stringify({
      mail: {
        timestamp: "2025-06-01T11:58:00.000Z",
        messageId: "0100018f-ses-message",
        destination: ["ann@example.com"],
        tags: { herald_id: ["msg_123"], "ses:configuration-set": ["herald"] },
      },
      ...event,
    });

  const notification = (message: string, extra: Record<string, string> = {}) => ({
    Type: "Notification",
    MessageId: crypto.randomUUID(),
    TopicArn: TOPIC,
    Message: message,
    Timestamp: "2025-06-01T11:59:30.000Z",
    UnsubscribeURL: "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=x",
    ...extra,
  });

  it("verifies SignatureVersion 1 (RSA-SHA1) and maps a bounce to one event per recipient", async () => {
    const fields = notification(
      sesMessage({
        eventType: "Bounce",
        bounce: {
          bounceType: "Permanent",
          bounceSubType: "General",
          timestamp: "2025-06-01T11:59:00.000Z",
          bouncedRecipients: [{ emailAddress: "ann@example.com" }, { emailAddress: "bob@example.com" }],
        },
      }),
    );
    const { fetched, fetchText } = server();
    const result = await verify("ses", request(await signer.sign(fields, "1")), {}, { fetchText });
    expect(result).toEqual({
      ok: true,
      events: [
        {
          providerEventId: `${fields.MessageId}:0`,
          type: "bounced",
          heraldMessageId: "msg_123",
          providerMessageId: "0100018f-ses-message",
          email: "ann@example.com",
          occurredAt: "2025-06-01T11:59:00.000Z",
          bounceType: "hard",
          raw: { bounceType: "Permanent", bounceSubType: "General" },
        },
        expect.objectContaining({ providerEventId: `${fields.MessageId}:1`, email: "bob@example.com", bounceType: "hard" }),
      ],
    });
    expect(fetched).toEqual([signer.certUrl]);
  });

  it("verifies SignatureVersion 2 (RSA-SHA256) with a Subject, and reads herald's id from the X-Herald-Message header", async () => {
    const message = JSON.stringify({
      notificationType: "Delivery",
      mail: { messageId: "ses-2", headers: [{ name: "X-Herald-Message", value: "msg_hdr" }] },
      delivery: { timestamp: "2025-06-01T11:59:01.000Z", recipients: ["ann@example.com"] },
    });
    const fields = notification(message, { Subject: "Amazon SES Email Event Notification" });
    const result = await verify("ses", request(await signer.sign(fields, "2")), {}, { fetchText: server().fetchText });
    expect(result).toEqual({
      ok: true,
      events: [
        {
          providerEventId: `${fields.MessageId}:0`,
          type: "delivered",
          heraldMessageId: "msg_hdr",
          providerMessageId: "ses-2",
          email: "ann@example.com",
          occurredAt: "2025-06-01T11:59:01.000Z",
        },
      ],
    });
  });

  it("maps soft bounces, complaints, opens and clicks", async () => {
    const cases: [Record<string, unknown>, Record<string, unknown>][] = [
      [
        {
          eventType: "Bounce",
          bounce: { bounceType: "Transient", bounceSubType: "MailboxFull", bouncedRecipients: [{ emailAddress: "ann@example.com" }] },
        },
        { type: "bounced", bounceType: "soft", email: "ann@example.com" },
      ],
      [
        {
          eventType: "Complaint",
          complaint: { complainedRecipients: [{ emailAddress: "ann@example.com" }], complaintFeedbackType: "abuse" },
        },
        { type: "complained", email: "ann@example.com", raw: { complaintFeedbackType: "abuse" } },
      ],
      [
        { eventType: "Open", open: { timestamp: "2025-06-01T11:59:05.000Z" } },
        { type: "opened", email: "ann@example.com", occurredAt: "2025-06-01T11:59:05.000Z" },
      ],
      [
        { eventType: "Click", click: { link: "https://example.com/a?b=1" } },
        { type: "clicked", url: "https://example.com/a?b=1", heraldMessageId: "msg_123" },
      ],
    ];
    const { fetched, fetchText } = server();
    for (const [event, expected] of cases) {
      const result = await verify("ses", request(await signer.sign(notification(sesMessage(event)), "2")), {}, { fetchText });
      expect(result.ok && result.events).toEqual([expect.objectContaining(expected)]);
    }
    // The certificate is cached per URL: at most one download here.
    expect(fetched.length).toBeLessThanOrEqual(1);
  });

  it("yields no events for authentic notifications that are not SES events", async () => {
    const setup = notification("Successfully validated SNS topic for Amazon SES event publishing.");
    expect(await verify("ses", request(await signer.sign(setup, "2")), {}, { fetchText: server().fetchText })).toEqual({
      ok: true,
      events: [],
    });
    const send = notification(sesMessage({ eventType: "Send", send: {} }));
    expect(await verify("ses", request(await signer.sign(send, "2")), {}, { fetchText: server().fetchText })).toEqual({
      ok: true,
      events: [],
    });
  });

  it("rejects a tampered message", async () => {
    const body = await signer.sign(notification(sesMessage({ eventType: "Delivery", delivery: { recipients: ["ann@example.com"] } })), "2");
    const tampered = body.replace("ann@example.com", "eve@example.com");
    expect(tampered).not.toBe(body);
    expect(await verify("ses", request(tampered), {}, { fetchText: server().fetchText })).toMatchObject({ ok: false, status: 401 });
  });

  it("rejects a signature made with a key other than the certificate's", async () => {
    const fields = notification(sesMessage({ eventType: "Delivery", delivery: { recipients: ["ann@example.com"] } }));
    // Signed by `other`, but pointing at `signer`'s certificate.
    const body = JSON.stringify({ ...JSON.parse(await other.sign(fields, "2")), SigningCertURL: signer.certUrl });
    expect(await verify("ses", request(body), {}, { fetchText: server().fetchText })).toEqual({
      ok: false,
      status: 401,
      reason: "signature does not match",
    });
  });

  it("downloads a certificate once for messages of both signature versions", async () => {
    const fresh = await snsSigner(certUrl());
    const { fetched, fetchText } = server(fresh);
    const open = () => notification(sesMessage({ eventType: "Open", open: {} }));
    expect(await verify("ses", request(await fresh.sign(open(), "1")), {}, { fetchText })).toMatchObject({ ok: true });
    expect(await verify("ses", request(await fresh.sign(open(), "2")), {}, { fetchText })).toMatchObject({ ok: true });
    expect(fetched).toEqual([fresh.certUrl]);
  });

  it("rejects a certificate outside its validity period, and one whose key is not RSA", async () => {
    const fields = notification(sesMessage({ eventType: "Open", open: {} }));
    const expired = await snsSigner(certUrl(), { notBefore: new Date("2024-01-01T00:00:00Z"), notAfter: new Date(NOW - 1000) });
    const early = await snsSigner(certUrl(), { notBefore: new Date(NOW + 1000), notAfter: new Date("2027-01-01T00:00:00Z") });
    for (const s of [expired, early]) {
      const result = await verify("ses", request(await s.sign(fields, "2")), {}, { fetchText: server(s).fetchText });
      expect(result).toEqual({ ok: false, status: 401, reason: "signing certificate is not valid now" });
    }
    const ec = await snsSigner(certUrl(), { ec: true });
    const result = await verify("ses", request(await ec.sign(fields, "2")), {}, { fetchText: server(ec).fetchText });
    expect(result).toEqual({ ok: false, status: 401, reason: "signing certificate could not be loaded" });
  });

  it("rejects a message older than the replay window without fetching the certificate", async () => {
    const fields = notification(sesMessage({ eventType: "Open", open: {} }), { Timestamp: "2025-06-01T10:59:00.000Z" });
    expect(await verify("ses", request(await signer.sign(fields, "2")))).toEqual({
      ok: false,
      status: 401,
      reason: "message is outside the replay window",
    });
  });

  it("rejects malformed JSON and non-SNS bodies with 400", async () => {
    expect(await verify("ses", request("{not json"))).toMatchObject({ ok: false, status: 400 });
    expect(await verify("ses", request("[1,2]"))).toMatchObject({ ok: false, status: 400 });
    expect(await verify("ses", request(JSON.stringify({ Type: "Notification", MessageId: "x" })))).toMatchObject({
      ok: false,
      status: 400,
    });
  });

  it("rejects signing certificate URLs that are not https on an SNS host, without fetching them", async () => {
    const fields = notification(sesMessage({ eventType: "Open", open: {} }));
    const signed = JSON.parse(await signer.sign(fields, "2")) as Record<string, string>;
    for (const url of [
      "https://evil.example.com/SimpleNotificationService-x.pem",
      "https://sns.us-east-1.amazonaws.com.evil.example.com/x.pem",
      "http://sns.us-east-1.amazonaws.com/x.pem",
      "https://sns.us-east-1.amazonaws.com:8443/x.pem",
      "https://sns.us-east-1.amazonaws.com/x.txt",
      // S3 buckets named "sns" answer on these hosts, with files anyone can upload.
      "https://sns.s3.amazonaws.com/SimpleNotificationService-x.pem",
      "https://sns.s3-us-west-2.amazonaws.com/SimpleNotificationService-x.pem",
      "https://sns.amazonaws.com/x.pem",
      "not a url",
    ]) {
      const result = await verify("ses", request(JSON.stringify({ ...signed, SigningCertURL: url })));
      expect(result, url).toEqual({ ok: false, status: 401, reason: "signing certificate URL is not an SNS URL" });
    }
  });

  it("rejects unsupported signature versions, unlisted topics and unloadable certificates", async () => {
    const fields = notification(sesMessage({ eventType: "Open", open: {} }));
    const signed = JSON.parse(await signer.sign(fields, "2")) as Record<string, string>;
    expect(await verify("ses", request(JSON.stringify({ ...signed, SignatureVersion: "3" })))).toMatchObject({ status: 401 });
    expect(await verify("ses", request(JSON.stringify(signed)), { sesTopicArns: ["arn:aws:sns:us-east-1:123456789012:other"] })).toEqual({
      ok: false,
      status: 401,
      reason: "topic is not allowed",
    });
    // Without an allowlist there is nothing to tie the topic to the tenant: refused.
    expect(await verify("ses", request(JSON.stringify(signed)), { sesTopicArns: [] })).toEqual({
      ok: false,
      status: 401,
      reason: "webhook verification is not configured for this provider",
    });
    const missing = JSON.stringify({ ...signed, SigningCertURL: `https://sns.eu-west-1.amazonaws.com/${crypto.randomUUID()}.pem` });
    expect(await verify("ses", request(missing), {}, { fetchText: server().fetchText })).toMatchObject({ status: 401 });
    const garbage = { fetchText: async () => "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----" };
    const other = JSON.stringify({ ...signed, SigningCertURL: `https://sns.eu-west-1.amazonaws.com/${crypto.randomUUID()}.pem` });
    expect(await verify("ses", request(other), {}, garbage)).toMatchObject({ status: 401 });
  });

  it("takes certificates from SNS in every partition: commercial, GovCloud and China", async () => {
    for (const host of ["sns.ap-southeast-2.amazonaws.com", "sns.us-gov-west-1.amazonaws.com", "sns.cn-north-1.amazonaws.com.cn"]) {
      const regional = await snsSigner(`https://${host}/SimpleNotificationService-${crypto.randomUUID()}.pem`);
      const body = await regional.sign(notification(sesMessage({ eventType: "Open", open: {} })), "2");
      expect(await verify("ses", request(body), {}, { fetchText: server(regional).fetchText }), host).toMatchObject({ ok: true });
    }
  });

  it("accepts a custom snsCertHost", async () => {
    const custom = await snsSigner("https://certs.localstack.test/sns.pem");
    const fields = notification(sesMessage({ eventType: "Open", open: {} }));
    const body = await custom.sign(fields, "1");
    expect(await verify("ses", request(body), {}, { fetchText: server(custom).fetchText })).toMatchObject({ status: 401 });
    const ok = await verify("ses", request(body), {}, { fetchText: server(custom).fetchText, snsCertHost: /^certs\.localstack\.test$/ });
    expect(ok).toMatchObject({ ok: true, events: [{ type: "opened" }] });
  });

  it("confirms a SubscriptionConfirmation by fetching its SubscribeURL", async () => {
    const subscribeUrl = `https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${encodeURIComponent(TOPIC)}&Token=tok123`;
    const fields = {
      Type: "SubscriptionConfirmation",
      MessageId: crypto.randomUUID(),
      Token: "tok123",
      TopicArn: TOPIC,
      Message: "You have chosen to subscribe to the topic. To confirm the subscription, visit the SubscribeURL included in this message.",
      SubscribeURL: subscribeUrl,
      Timestamp: "2025-06-01T11:59:59.000Z",
    };
    const { fetched, fetchText } = server();
    const result = await verify("ses", request(await signer.sign(fields, "1")), { sesTopicArns: [TOPIC] }, { fetchText });
    expect(result).toEqual({ ok: true, events: [], confirmed: true });
    expect(fetched).toContain(subscribeUrl);

    // A SubscribeURL off the SNS hosts is never fetched, even in an authentic message.
    const evil = { ...fields, MessageId: crypto.randomUUID(), SubscribeURL: "https://evil.example.com/?Action=ConfirmSubscription" };
    const second = server();
    expect(await verify("ses", request(await signer.sign(evil, "2")), {}, { fetchText: second.fetchText })).toMatchObject({
      ok: false,
      status: 400,
    });
    expect(second.fetched.some((u) => u.includes("evil"))).toBe(false);

    // Tampering with the Token (part of the signed string) is caught before anything is fetched.
    const tampered = JSON.stringify({ ...JSON.parse(await signer.sign(fields, "2")), Token: "other" });
    const third = server();
    expect(await verify("ses", request(tampered), {}, { fetchText: third.fetchText })).toMatchObject({ ok: false, status: 401 });
    expect(third.fetched).not.toContain(subscribeUrl);
  });
});

describe("sendgrid", () => {
  let signer: SendgridSigner;
  let other: SendgridSigner;
  beforeAll(async () => {
    signer = await sendgridSigner();
    other = await sendgridSigner();
  });
  const secrets = () => ({ sendgridPublicKey: signer.publicKey });
  const base = { email: "ann@example.com", timestamp: NOW_S - 30, sg_message_id: "sgmsg.filter0001", herald_id: "msg_1" };

  it("verifies the ECDSA signature and maps every tracked event", async () => {
    const body = JSON.stringify([
      { ...base, event: "processed", sg_event_id: "e0" },
      { ...base, event: "delivered", sg_event_id: "e1" },
      { ...base, event: "bounce", type: "bounce", status: "5.1.1", reason: "550 no such user", sg_event_id: "e2" },
      { ...base, event: "bounce", type: "blocked", sg_event_id: "e3" },
      { ...base, event: "dropped", sg_event_id: "e4" },
      { ...base, event: "spamreport", sg_event_id: "e5" },
      { ...base, event: "open", sg_event_id: "e6" },
      { ...base, event: "click", url: "https://example.com/x", sg_event_id: "e7" },
      { ...base, event: "unsubscribe", sg_event_id: "e8" },
      { ...base, event: "group_unsubscribe", asm_group_id: 1, sg_event_id: "e9" },
      "not an event",
    ]);
    const result = await verify("sendgrid", request(body, await signer.headers(body, NOW_S)), secrets());
    const common = {
      heraldMessageId: "msg_1",
      providerMessageId: "sgmsg.filter0001",
      email: "ann@example.com",
      occurredAt: "2025-06-01T11:59:30.000Z",
    };
    expect(result).toEqual({
      ok: true,
      events: [
        { ...common, providerEventId: "e1", type: "delivered" },
        {
          ...common,
          providerEventId: "e2",
          type: "bounced",
          bounceType: "hard",
          raw: { type: "bounce", status: "5.1.1", reason: "550 no such user" },
        },
        { ...common, providerEventId: "e3", type: "bounced", bounceType: "soft", raw: { type: "blocked" } },
        { ...common, providerEventId: "e5", type: "complained" },
        { ...common, providerEventId: "e6", type: "opened" },
        { ...common, providerEventId: "e7", type: "clicked", url: "https://example.com/x" },
        { ...common, providerEventId: "e8", type: "unsubscribed" },
        { ...common, providerEventId: "e9", type: "unsubscribed" },
      ],
    });
  });

  it("accepts many signatures (DER integers of every length and sign) and rejects each once tampered", async () => {
    for (let i = 0; i < 40; i++) {
      const body = JSON.stringify([{ ...base, event: "open", sg_event_id: `n${i}` }]);
      const headers = await signer.headers(body, NOW_S);
      expect(await verify("sendgrid", request(body, headers), secrets())).toMatchObject({ ok: true });
      expect(await verify("sendgrid", request(body.replace(`n${i}`, `m${i}`), headers), secrets())).toMatchObject({
        ok: false,
        status: 401,
      });
    }
  });

  it("rejects a tampered body, a tampered timestamp and a different key", async () => {
    const body = JSON.stringify([{ ...base, event: "delivered", sg_event_id: "t1" }]);
    const headers = await signer.headers(body, NOW_S);
    expect(await verify("sendgrid", request(body.replace("delivered", "bounce"), headers), secrets())).toEqual({
      ok: false,
      status: 401,
      reason: "signature does not match",
    });
    const shifted = { ...headers, "X-Twilio-Email-Event-Webhook-Timestamp": String(NOW_S - 1) };
    expect(await verify("sendgrid", request(body, shifted), secrets())).toMatchObject({ ok: false, status: 401 });
    expect(await verify("sendgrid", request(body, headers), { sendgridPublicKey: other.publicKey })).toMatchObject({
      ok: false,
      status: 401,
    });
  });

  it("rejects stale timestamps, missing headers and garbage signatures", async () => {
    const body = JSON.stringify([{ ...base, event: "delivered", sg_event_id: "s1" }]);
    const stale = await signer.headers(body, NOW_S - 11 * 60);
    expect(await verify("sendgrid", request(body, stale), secrets())).toEqual({
      ok: false,
      status: 401,
      reason: "timestamp is outside the replay window",
    });
    expect(await verify("sendgrid", request(body), secrets())).toMatchObject({ ok: false, status: 401 });
    const headers = await signer.headers(body, NOW_S);
    for (const sig of ["", "!!!", btoa("hello"), btoa(String.fromCharCode(0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01))]) {
      const res = await verify("sendgrid", request(body, { ...headers, "X-Twilio-Email-Event-Webhook-Signature": sig }), secrets());
      expect(res, sig).toMatchObject({ ok: false, status: 401 });
    }
  });

  it("returns 400 for a correctly signed body that is not an event array", async () => {
    for (const body of ['[{"event":', '{"event":"delivered"}']) {
      expect(await verify("sendgrid", request(body, await signer.headers(body, NOW_S)), secrets())).toMatchObject({
        ok: false,
        status: 400,
      });
    }
  });

  it("reports missing or unusable configuration", async () => {
    const body = "[]";
    const headers = await signer.headers(body, NOW_S);
    expect(await verify("sendgrid", request(body, headers), {})).toEqual(NOT_CONFIGURED);
    expect(await verify("sendgrid", request(body, headers), { sendgridPublicKey: "bm90IGEga2V5" })).toMatchObject({
      ok: false,
      status: 401,
    });
    // The key pasted with PEM armour and line breaks still works.
    const pem = `-----BEGIN PUBLIC KEY-----\n${signer.publicKey.replace(/.{1,64}/g, "$&\n")}-----END PUBLIC KEY-----\n`;
    expect(await verify("sendgrid", request(body, headers), { sendgridPublicKey: pem })).toEqual({ ok: true, events: [] });
  });
});

describe("mailgun", () => {
  const KEY = "key-mailgun-signing-0123456789";
  const eventData = (extra: Record<string, unknown>) => ({
    id: "mg-event-1",
    timestamp: NOW_S - 5.25,
    recipient: "ann@example.com",
    message: { headers: { "message-id": "20250601.abc@mg.example.com" } },
    "user-variables": { herald_id: "msg_mg" },
    ...extra,
  });
  const body = async (data: Record<string, unknown>, timestamp = NOW_S, key = KEY) =>
    JSON.stringify({ signature: await mailgunSignature(key, timestamp), "event-data": data });

  it("verifies the HMAC and maps every tracked event", async () => {
    const common = {
      providerEventId: "mg-event-1",
      heraldMessageId: "msg_mg",
      providerMessageId: "20250601.abc@mg.example.com",
      email: "ann@example.com",
      occurredAt: "2025-06-01T11:59:54.750Z",
    };
    const cases: [Record<string, unknown>, Record<string, unknown>[]][] = [
      [{ event: "delivered" }, [{ ...common, type: "delivered" }]],
      [
        { event: "failed", severity: "permanent", reason: "bounce" },
        [{ ...common, type: "bounced", bounceType: "hard", raw: { severity: "permanent", reason: "bounce" } }],
      ],
      [
        { event: "failed", severity: "temporary", reason: "generic" },
        [{ ...common, type: "bounced", bounceType: "soft", raw: { severity: "temporary", reason: "generic" } }],
      ],
      [{ event: "complained" }, [{ ...common, type: "complained" }]],
      [{ event: "opened" }, [{ ...common, type: "opened" }]],
      [{ event: "clicked", url: "https://example.com/c" }, [{ ...common, type: "clicked", url: "https://example.com/c" }]],
      [{ event: "unsubscribed" }, [{ ...common, type: "unsubscribed" }]],
      [{ event: "accepted" }, []],
    ];
    // The signed token comes back too, for the route's replay check, with how long it stays valid.
    const replay = { token: expect.stringMatching(/^[0-9a-f]{32}$/), ttlSeconds: 10 * 60 + 60 };
    for (const [extra, events] of cases) {
      expect(await verify("mailgun", request(await body(eventData(extra))), { mailgunSigningKey: KEY })).toEqual({
        ok: true,
        events,
        replay,
      });
    }
  });

  it("rejects a tampered signature block, a wrong key and a stale timestamp", async () => {
    const parsed = JSON.parse(await body(eventData({ event: "delivered" }))) as { signature: Record<string, string> };
    const tamperedToken = JSON.stringify({ ...parsed, signature: { ...parsed.signature, token: `${parsed.signature.token}x` } });
    expect(await verify("mailgun", request(tamperedToken), { mailgunSigningKey: KEY })).toEqual({
      ok: false,
      status: 401,
      reason: "signature does not match",
    });
    const tamperedTs = JSON.stringify({ ...parsed, signature: { ...parsed.signature, timestamp: String(NOW_S - 1) } });
    expect(await verify("mailgun", request(tamperedTs), { mailgunSigningKey: KEY })).toMatchObject({ ok: false, status: 401 });
    expect(
      await verify("mailgun", request(await body(eventData({ event: "delivered" }), NOW_S, "another-key")), { mailgunSigningKey: KEY }),
    ).toMatchObject({
      ok: false,
      status: 401,
    });
    expect(
      await verify("mailgun", request(await body(eventData({ event: "delivered" }), NOW_S - 11 * 60)), { mailgunSigningKey: KEY }),
    ).toEqual({
      ok: false,
      status: 401,
      reason: "timestamp is outside the replay window",
    });
  });

  it("documents that Mailgun's signature does not cover event-data", async () => {
    // Mailgun signs timestamp+token only, so an edited event-data still verifies.
    const edited = (await body(eventData({ event: "delivered" }))).replace("ann@example.com", "eve@example.com");
    expect(await verify("mailgun", request(edited), { mailgunSigningKey: KEY })).toMatchObject({
      ok: true,
      events: [{ email: "eve@example.com" }],
    });
  });

  it("rejects malformed JSON (400), a missing signature (401) and missing configuration", async () => {
    expect(await verify("mailgun", request('{"signature":'), { mailgunSigningKey: KEY })).toMatchObject({ ok: false, status: 400 });
    expect(
      await verify("mailgun", request(JSON.stringify({ "event-data": eventData({ event: "delivered" }) })), { mailgunSigningKey: KEY }),
    ).toMatchObject({
      ok: false,
      status: 401,
    });
    const noData = JSON.stringify({ signature: await mailgunSignature(KEY, NOW_S) });
    expect(await verify("mailgun", request(noData), { mailgunSigningKey: KEY })).toMatchObject({ ok: false, status: 400 });
    expect(await verify("mailgun", request(await body(eventData({ event: "delivered" }))), {})).toEqual(NOT_CONFIGURED);
  });
});

describe("postmark", () => {
  const secrets = { postmarkUsername: "herald", postmarkPassword: "s3cret:with:colons" };
  const auth = basicAuth("herald", "s3cret:with:colons");
  const post = (payload: Record<string, unknown>, headers = auth) =>
    verify(
      "postmark",
      request(JSON.stringify({ MessageID: "pm-1", Metadata: { herald_id: "msg_pm" }, MessageStream: "outbound", ...payload }), headers),
      secrets,
    );
  const common = { heraldMessageId: "msg_pm", providerMessageId: "pm-1", email: "ann@example.com" };

  it("checks Basic auth and maps every tracked record type", async () => {
    expect(await post({ RecordType: "Delivery", Recipient: "ann@example.com", DeliveredAt: "2025-06-01T07:59:00-04:00" })).toEqual({
      ok: true,
      events: [
        {
          ...common,
          providerEventId: "Delivery:pm-1:ann@example.com:2025-06-01T07:59:00-04:00",
          type: "delivered",
          occurredAt: "2025-06-01T11:59:00.000Z",
        },
      ],
    });
    const bounce = await post({
      RecordType: "Bounce",
      Type: "HardBounce",
      Email: "ann@example.com",
      BouncedAt: "2025-06-01T11:59:00Z",
      Description: "Unknown user",
    });
    expect(bounce).toMatchObject({
      ok: true,
      events: [{ ...common, type: "bounced", bounceType: "hard", raw: { type: "HardBounce", description: "Unknown user" } }],
    });
    expect(
      await post({ RecordType: "Bounce", Type: "SoftBounce", Email: "ann@example.com", BouncedAt: "2025-06-01T11:59:00Z" }),
    ).toMatchObject({
      events: [{ type: "bounced", bounceType: "soft" }],
    });
    expect(
      await post({ RecordType: "Bounce", Type: "Transient", Email: "ann@example.com", BouncedAt: "2025-06-01T11:59:00Z" }),
    ).toMatchObject({
      events: [{ type: "bounced", bounceType: "soft" }],
    });
    expect(
      await post({ RecordType: "SpamComplaint", Type: "SpamComplaint", Email: "ann@example.com", BouncedAt: "2025-06-01T11:59:00Z" }),
    ).toMatchObject({
      events: [{ ...common, type: "complained", occurredAt: "2025-06-01T11:59:00.000Z" }],
    });
    expect(await post({ RecordType: "Open", Recipient: "ann@example.com", ReceivedAt: "2025-06-01T11:59:00Z" })).toMatchObject({
      events: [{ ...common, type: "opened" }],
    });
    expect(
      await post({
        RecordType: "Click",
        Recipient: "ann@example.com",
        ReceivedAt: "2025-06-01T11:59:00Z",
        OriginalLink: "https://example.com/p",
      }),
    ).toMatchObject({
      events: [{ ...common, type: "clicked", url: "https://example.com/p" }],
    });
    expect(
      await post({
        RecordType: "SubscriptionChange",
        Recipient: "ann@example.com",
        ChangedAt: "2025-06-01T11:59:00Z",
        SuppressSending: true,
        SuppressionReason: "ManualSuppression",
      }),
    ).toMatchObject({
      events: [{ ...common, type: "unsubscribed", raw: { reason: "ManualSuppression" } }],
    });
    expect(
      await post({
        RecordType: "SubscriptionChange",
        Recipient: "ann@example.com",
        ChangedAt: "2025-06-01T11:59:00Z",
        SuppressSending: false,
      }),
    ).toEqual({ ok: true, events: [] });
  });

  it("rejects wrong or missing credentials", async () => {
    const delivery = { RecordType: "Delivery", Recipient: "ann@example.com", DeliveredAt: "2025-06-01T11:59:00Z" };
    expect(await post(delivery, basicAuth("herald", "wrong"))).toEqual({ ok: false, status: 401, reason: "credentials do not match" });
    expect(await post(delivery, basicAuth("other", "s3cret:with:colons"))).toMatchObject({ ok: false, status: 401 });
    expect(await post(delivery, {} as typeof auth)).toMatchObject({ ok: false, status: 401 });
    expect(await post(delivery, { authorization: "Bearer abc" })).toMatchObject({ ok: false, status: 401 });
    expect(await post(delivery, { authorization: "Basic !!!" })).toMatchObject({ ok: false, status: 401 });
    expect(await post(delivery, { authorization: `Basic ${btoa("\xff\xfe:x")}` })).toMatchObject({ ok: false, status: 401 });
  });

  it("has no body signature or timestamp to check: Basic auth is the whole scheme", async () => {
    // Postmark neither signs bodies nor timestamps requests, so tampering and replay are out of
    // reach here; a body carrying old timestamps is still accepted (dedupe happens downstream).
    expect(await post({ RecordType: "Open", Recipient: "ann@example.com", ReceivedAt: "2020-01-01T00:00:00Z" })).toMatchObject({
      ok: true,
    });
  });

  it("rejects malformed JSON with 400 and reports missing configuration", async () => {
    expect(await verify("postmark", request('{"RecordType":', auth), secrets)).toMatchObject({ ok: false, status: 400 });
    expect(await verify("postmark", request("[]", auth), secrets)).toMatchObject({ ok: false, status: 400 });
    expect(await verify("postmark", request("{}", auth), { postmarkUsername: "herald" })).toEqual(NOT_CONFIGURED);
  });
});

describe("resend (svix)", () => {
  const secret = svixSecret();
  const payload = (type: string, data: Record<string, unknown> = {}) =>
    JSON.stringify({
      type,
      created_at: "2025-06-01T11:59:58.000Z",
      data: {
        email_id: "re-email-1",
        from: "Herald <news@herald.test>",
        to: ["ann@example.com"],
        subject: "Hi",
        created_at: "2025-06-01T11:00:00.000Z",
        ...data,
      },
    });
  const signed = async (body: string, id = `msg_${crypto.randomUUID()}`, timestamp = NOW_S, key = secret) =>
    request(body, await svixHeaders(key, id, timestamp, body));

  it("verifies the svix signature and maps every tracked event", async () => {
    const common = { providerMessageId: "re-email-1", email: "ann@example.com", occurredAt: "2025-06-01T11:59:58.000Z" };
    const delivered = await verify("resend", await signed(payload("email.delivered", { tags: { herald_id: "msg_re" } }), "msg_fixed"), {
      resendWebhookSecret: secret,
    });
    expect(delivered).toEqual({
      ok: true,
      events: [{ ...common, providerEventId: "msg_fixed", type: "delivered", heraldMessageId: "msg_re" }],
    });

    const bounced = await verify(
      "resend",
      await signed(
        payload("email.bounced", {
          tags: [{ name: "herald_id", value: "msg_arr" }],
          bounce: { type: "Permanent", subType: "Suppressed", message: "x" },
        }),
      ),
      { resendWebhookSecret: secret },
    );
    expect(bounced).toMatchObject({
      ok: true,
      events: [
        {
          ...common,
          type: "bounced",
          bounceType: "hard",
          heraldMessageId: "msg_arr",
          raw: { bounceType: "Permanent", subType: "Suppressed" },
        },
      ],
    });
    const soft = await verify("resend", await signed(payload("email.bounced", { bounce: { type: "Transient" } })), {
      resendWebhookSecret: secret,
    });
    expect(soft).toMatchObject({ events: [{ bounceType: "soft" }] });

    const complained = await verify(
      "resend",
      await signed(payload("email.complained", { headers: [{ name: "X-Herald-Message", value: "msg_h" }] })),
      { resendWebhookSecret: secret },
    );
    expect(complained).toMatchObject({ events: [{ type: "complained", heraldMessageId: "msg_h" }] });
    expect(await verify("resend", await signed(payload("email.opened")), { resendWebhookSecret: secret })).toMatchObject({
      events: [{ type: "opened" }],
    });
    const clicked = await verify(
      "resend",
      await signed(payload("email.clicked", { click: { link: "https://example.com/r", timestamp: "2025-06-01T11:59:57.000Z" } })),
      { resendWebhookSecret: secret },
    );
    expect(clicked).toMatchObject({ events: [{ type: "clicked", url: "https://example.com/r" }] });
    expect(await verify("resend", await signed(payload("email.sent")), { resendWebhookSecret: secret })).toEqual({ ok: true, events: [] });

    // Several recipients: the event cannot name one, so it keeps them in raw instead.
    const many = await verify("resend", await signed(payload("email.delivered", { to: ["a@example.com", "b@example.com"] })), {
      resendWebhookSecret: secret,
    });
    expect(many).toMatchObject({ ok: true, events: [{ type: "delivered", raw: { to: ["a@example.com", "b@example.com"] } }] });
    expect(many.ok && many.events[0]!.email).toBeUndefined();
  });

  it("accepts any one valid signature among several (secret rotation)", async () => {
    const body = payload("email.delivered");
    const headers = await svixHeaders(secret, "msg_rot", NOW_S, body);
    const oldSig = (await svixHeaders(svixSecret(), "msg_rot", NOW_S, body))["svix-signature"];
    const rotated = { ...headers, "svix-signature": `v1a,xyz ${oldSig} ${headers["svix-signature"]}` };
    expect(await verify("resend", request(body, rotated), { resendWebhookSecret: secret })).toMatchObject({ ok: true });
  });

  it("rejects a tampered body, a tampered id, a wrong secret, and timestamps outside 5 minutes", async () => {
    const body = payload("email.delivered");
    const headers = await svixHeaders(secret, "msg_t", NOW_S, body);
    expect(await verify("resend", request(body.replace("ann@", "eve@"), headers), { resendWebhookSecret: secret })).toEqual({
      ok: false,
      status: 401,
      reason: "signature does not match",
    });
    expect(await verify("resend", request(body, { ...headers, "svix-id": "msg_other" }), { resendWebhookSecret: secret })).toMatchObject({
      ok: false,
      status: 401,
    });
    expect(await verify("resend", request(body, headers), { resendWebhookSecret: svixSecret() })).toMatchObject({ ok: false, status: 401 });
    expect(await verify("resend", await signed(body, "msg_old", NOW_S - 6 * 60), { resendWebhookSecret: secret })).toEqual({
      ok: false,
      status: 401,
      reason: "timestamp is outside the tolerance window",
    });
    expect(await verify("resend", await signed(body, "msg_new", NOW_S + 6 * 60), { resendWebhookSecret: secret })).toMatchObject({
      ok: false,
      status: 401,
    });
    expect(await verify("resend", await signed(body, "msg_edge", NOW_S - 4 * 60), { resendWebhookSecret: secret })).toMatchObject({
      ok: true,
    });
  });

  it("rejects missing headers and malformed secrets with 401, malformed JSON with 400", async () => {
    const body = payload("email.delivered");
    expect(await verify("resend", request(body), { resendWebhookSecret: secret })).toMatchObject({ ok: false, status: 401 });
    expect(await verify("resend", await signed(body), { resendWebhookSecret: "not-a-whsec" })).toMatchObject({ ok: false, status: 401 });
    expect(await verify("resend", await signed(body), {})).toEqual(NOT_CONFIGURED);
    expect(await verify("resend", await signed('{"type":'), { resendWebhookSecret: secret })).toMatchObject({ ok: false, status: 400 });
    expect(await verify("resend", await signed('{"type":"email.delivered"}'), { resendWebhookSecret: secret })).toMatchObject({
      ok: false,
      status: 400,
    });
  });
});

describe("verifyInbound", () => {
  it("rejects unknown providers, including prototype keys", async () => {
    for (const kind of ["smtp", "__proto__", "toString", "constructor"]) {
      expect(await verify(kind as InboundProviderKind, request("{}"), {})).toEqual({ ok: false, status: 400, reason: "unknown provider" });
    }
  });

  it("never throws on hostile input", async () => {
    const secrets: InboundSecrets = {
      sendgridPublicKey: "AAAA",
      mailgunSigningKey: "k",
      postmarkUsername: "u",
      postmarkPassword: "p",
      resendWebhookSecret: svixSecret(),
    };
    const bodies = [
      "",
      "null",
      "0",
      '"x"',
      "[]",
      "{}",
      "[null]",
      '{"signature":[],"event-data":1}',
      '{"Type":"Notification","Message":{}}',
      "\u0000\uffff",
    ];
    const headerSets: Record<string, string>[] = [
      {},
      { "x-twilio-email-event-webhook-signature": "MAA=", "x-twilio-email-event-webhook-timestamp": String(NOW_S) },
      { "svix-id": "a", "svix-timestamp": String(NOW_S), "svix-signature": "v1 v1, ,,, v1,!!" },
      { authorization: "Basic " },
    ];
    for (const kind of ["ses", "sendgrid", "mailgun", "postmark", "resend"] as const) {
      for (const body of bodies) {
        for (const headers of headerSets) {
          const result = await verify(kind, request(body, headers), secrets);
          expect(result.ok, `${kind} ${body}`).toBe(false);
          if (!result.ok) expect([400, 401]).toContain(result.status);
        }
      }
    }
  });
});
