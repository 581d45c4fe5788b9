// What the rate limits apply to: the limits per plan and class, which requests are sends, and the
// endpoints that are never refused for rate.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { classify, RATE_LIMITS } from "../src/ratelimit";
import { signToken } from "../src/tracking/token";
import { call, expectProblem, newTenant } from "./helpers";
import { newIp, overrides } from "./rate-limit-helpers";

describe("the limits table and request classes", () => {
  it("has generous per-minute limits per plan × class, and a per-IP limit", () => {
    expect(RATE_LIMITS.plans.free).toEqual({ read: { limit: 600, windowSeconds: 60 }, send: { limit: 60, windowSeconds: 60 } });
    expect(RATE_LIMITS.plans.pro).toEqual({ read: { limit: 6000, windowSeconds: 60 }, send: { limit: 600, windowSeconds: 60 } });
    expect(RATE_LIMITS.plans.enterprise).toEqual({ read: { limit: 60000, windowSeconds: 60 }, send: { limit: 6000, windowSeconds: 60 } });
    expect(RATE_LIMITS.ip).toEqual({ limit: 3000, windowSeconds: 60 });
  });

  it("classifies launch, resume, retry-failed and sending email as send, everything else as read", () => {
    const id = crypto.randomUUID();
    for (const action of ["launch", "resume", "retry-failed"]) expect(classify("POST", `/v1/campaigns/${id}/${action}`)).toBe("send");
    expect(classify("POST", "/v1/emails")).toBe("send");
    expect(classify("POST", "/v1/emails/batch")).toBe("send");
    expect(classify("GET", "/v1/emails/abc")).toBe("read");
    expect(classify("POST", "/v1/emails/abc/cancel")).toBe("read");
    expect(classify("POST", `/v1/campaigns/${id}/pause`)).toBe("read");
    expect(classify("GET", `/v1/campaigns/${id}/launch`)).toBe("read");
    expect(classify("POST", "/v1/campaigns")).toBe("read");
    expect(classify("GET", "/v1/contacts")).toBe("read");
  });
});

describe("endpoints never refused for rate", () => {
  it("answers the one-click unsubscribe POST, the open pixel, the click redirect and inbound webhooks while /v1 is rate limited", async () => {
    const { tenantId } = await newTenant();
    const ip = newIp();
    const opts = { headers: { "cf-connecting-ip": ip }, env: overrides({ ip: { limit: 1, windowSeconds: 60 } }) };
    expect((await call("/v1/api-keys", opts)).status).toBe(401);
    await expectProblem(await call("/v1/api-keys", opts), 429, "rate_limited");

    const claims = { t: tenantId, m: crypto.randomUUID() };
    const unsubscribe = await signToken(env.TRACKING_SECRET, {
      ...claims,
      k: "u",
      e: `rl-${crypto.randomUUID().slice(0, 8)}@example.test`,
    });
    const open = await signToken(env.TRACKING_SECRET, { ...claims, k: "o" });
    const click = await signToken(env.TRACKING_SECRET, { ...claims, k: "c", u: "https://example.test/landing" });
    for (let i = 0; i < 3; i++) {
      const res = await call(`/u/${unsubscribe}`, {
        ...opts,
        method: "POST",
        body: "List-Unsubscribe=One-Click",
        headers: { ...opts.headers, "content-type": "application/x-www-form-urlencoded" },
      });
      expect(res.status, await res.clone().text()).toBe(200);
      const pixel = await call(`/t/o/${open}`, opts);
      expect(pixel.status).toBe(200);
      expect(pixel.headers.get("content-type")).toBe("image/gif");
      const redirect = await call(`/t/c/${click}`, { ...opts, redirect: "manual" });
      expect(redirect.status).toBe(302);
      expect(redirect.headers.get("location")).toBe("https://example.test/landing");
      // No such inbound endpoint: the answer is the route's own 404, never a 429.
      await expectProblem(
        await call(`/v1/webhooks/inbound/${crypto.randomUUID()}`, { ...opts, method: "POST", body: "{}" }),
        404,
        "not_found",
      );
    }
    await expectProblem(await call("/v1/api-keys", opts), 429, "rate_limited");
  });
});
