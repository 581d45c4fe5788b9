import { describe, expect, it } from "vitest";
import { mailgunSignature, request } from "../inbound-signers";
import { NOT_CONFIGURED, NOW_S, verify } from "./helpers";

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
