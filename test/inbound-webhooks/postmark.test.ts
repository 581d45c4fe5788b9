import { describe, expect, it } from "vitest";
import { basicAuth, request } from "../inbound-signers";
import { NOT_CONFIGURED, verify } from "./helpers";

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
