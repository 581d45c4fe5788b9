// SES (SNS): signing certificates (download, validity, hosts), replay window, malformed bodies and
// subscription confirmation.
import { beforeAll, describe, expect, it } from "vitest";
import { request, snsSigner, type SnsSigner } from "../inbound-signers";
import { NOW, SES_TOPIC, certUrl, notification, sesMessage, snsServer, verify } from "./helpers";

describe("ses (SNS)", () => {
  const TOPIC = SES_TOPIC;
  let signer: SnsSigner;

  beforeAll(async () => {
    signer = await snsSigner(certUrl());
  });

  const server = (s: SnsSigner = signer) => snsServer(s);

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
