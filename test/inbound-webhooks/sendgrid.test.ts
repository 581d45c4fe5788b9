import { beforeAll, describe, expect, it } from "vitest";
import { request, sendgridSigner, type SendgridSigner } from "../inbound-signers";
import { NOT_CONFIGURED, NOW_S, verify } from "./helpers";

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
