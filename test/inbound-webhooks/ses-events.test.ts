// SES (SNS): signature versions 1 and 2, and how SES events map to herald's; tampering and foreign keys.
import { beforeAll, describe, expect, it } from "vitest";
import { request, snsSigner, type SnsSigner } from "../inbound-signers";
import { certUrl, notification, sesMessage, snsServer, verify } from "./helpers";

describe("ses (SNS)", () => {
  let signer: SnsSigner;
  let other: SnsSigner;

  beforeAll(async () => {
    signer = await snsSigner(certUrl());
    other = await snsSigner(certUrl());
  });

  const server = (s: SnsSigner = signer) => snsServer(s);

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
});
