// The inbound webhook route with each provider's own signature scheme: verified events are queued for
// the provider's tenant; forged, tampered or malformed ones are refused with nothing queued.
import { describe, expect, it } from "vitest";
import type { EventMessage } from "../../src/events/message";
import { uuidv7 } from "../../src/lib/ids";
import { createProvider, deliver } from "../inbound-helpers";
import { basicAuth, mailgunSignature, sendgridSigner, svixHeaders, svixSecret } from "../inbound-signers";
import { expectProblem, newTenant, nowSeconds } from "../helpers";
import { mailgunProvider } from "./helpers";

async function accepted(r: { res: Response; sent: EventMessage[] }, received: number) {
  const text = await r.res.text();
  expect(r.res.status, text).toBe(200);
  expect(JSON.parse(text)).toEqual({ received });
  expect(r.sent).toHaveLength(received);
  return r.sent;
}

describe("POST /v1/webhooks/inbound/:provider_id", () => {
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
    const { tenantId, signingKey, id } = await mailgunProvider();
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
});
