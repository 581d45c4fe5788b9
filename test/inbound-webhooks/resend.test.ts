import { describe, expect, it } from "vitest";
import { request, svixHeaders, svixSecret } from "../inbound-signers";
import { NOT_CONFIGURED, NOW_S, verify } from "./helpers";

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
