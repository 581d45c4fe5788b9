// The transactional API: POST /v1/emails and /batch, GET /v1/emails/:id, cancel, idempotency,
// suppression, and the herald-transactional queue sending through the real sink provider.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { audience, campaign, getCampaign, keptMessages, receivedBy, sinkProvider, tag, template, launch } from "./campaign-helpers";
import { getEmail, sleep, waitForEmail } from "./email-helpers";
import { call, expectProblem, newTenant } from "./helpers";

const send = (apiKey: string, json: unknown, headers: Record<string, string> = {}) =>
  call("/v1/emails", { method: "POST", token: apiKey, json, headers });

describe("POST /v1/emails", () => {
  it("accepts with 202, sends through the tenant's provider, and reports status and events", async () => {
    const { apiKey } = await newTenant();
    await sinkProvider(apiKey);
    const t = tag();
    const to = `a+inspect.${t}@example.test`;
    const res = await send(apiKey, {
      from: "Herald <app@example.test>",
      to,
      subject: "Hello",
      html: "<p>Hi</p>",
      text: "Hi",
      headers: { "X-Entity-Ref": "42" },
      tags: [{ name: "kind", value: "welcome" }],
    });
    expect(res.status, await res.clone().text()).toBe(202);
    const { id } = (await res.json()) as { id: string };
    const done = await waitForEmail(apiKey, id, (e) => e.status === "sent" && e.events.some((ev) => ev.type === "sent"));
    expect(done).toMatchObject({
      object: "email",
      id,
      status: "sent",
      to: [to],
      subject: "Hello",
      tags: [{ name: "kind", value: "welcome" }],
    });
    expect(await receivedBy(t)).toEqual({ [to]: 1 });
    const [kept] = await keptMessages(t);
    expect(kept!.headers).toMatchObject({ "X-Entity-Ref": "42", "X-Herald-Message": id });
    expect(kept!.headers["List-Unsubscribe"]).toBeUndefined();
  });

  it("names each invalid field, in problem+json with Resend's members", async () => {
    const { apiKey } = await newTenant();
    await sinkProvider(apiKey);
    const res = await send(apiKey, {
      to: "not-an-address",
      subject: "x\r\nBcc: evil@example.test",
      headers: { From: "x@y.test" },
      attachments: [],
    });
    const problem = await expectProblem(res, 422, "validation_failed");
    const fields = problem.errors!.map((e) => e.field);
    for (const f of ["body.from", "body.to", "body.subject", "body.headers.From", "body.attachments"]) expect(fields).toContain(f);
    expect(problem).toMatchObject({ statusCode: 422, name: "validation_error" });
    expect(typeof problem.message).toBe("string");
  });

  it("refuses html-less and text-less mail, a provider of another tenant, and a tenant without providers", async () => {
    const a = await newTenant();
    const b = await newTenant();
    const other = await sinkProvider(b.apiKey);
    const base = { from: "app@example.test", to: "x@example.test", subject: "s" };
    await expectProblem(await send(a.apiKey, base), 422, "validation_failed");
    const none = await expectProblem(await send(a.apiKey, { ...base, text: "t" }), 422, "validation_failed");
    expect(none.errors).toEqual([{ field: "body.provider_id", message: expect.stringMatching(/no enabled provider/) }]);
    await sinkProvider(a.apiKey);
    const foreign = await expectProblem(await send(a.apiKey, { ...base, text: "t", provider_id: other }), 422, "validation_failed");
    expect(foreign.errors).toEqual([{ field: "body.provider_id", message: "no such provider" }]);
  });

  it("another tenant's email is not found", async () => {
    const a = await newTenant();
    const b = await newTenant();
    await sinkProvider(a.apiKey);
    const { id } = (await (
      await send(a.apiKey, { from: "app@example.test", to: `x.${tag()}@example.test`, subject: "s", text: "t" })
    ).json()) as { id: string };
    await expectProblem(await call(`/v1/emails/${id}`, { token: b.apiKey }), 404, "not_found");
    await expectProblem(await call(`/v1/emails/not-a-uuid`, { token: a.apiKey }), 404, "not_found");
  });

  it("never mails a suppressed address, and drops suppressed copies", async () => {
    const { apiKey } = await newTenant();
    await sinkProvider(apiKey);
    const t = tag();
    const blocked = `blocked.${t}@example.test`;
    const allowed = `allowed.${t}@example.test`;
    expect((await call("/v1/suppressions", { method: "POST", token: apiKey, json: { email: blocked } })).status).toBe(201);
    const only = (await (await send(apiKey, { from: "app@example.test", to: blocked, subject: "s", text: "t" })).json()) as { id: string };
    expect(await getEmail(apiKey, only.id)).toMatchObject({ status: "suppressed", last_event: "suppressed" });
    const mixed = (await (await send(apiKey, { from: "app@example.test", to: [allowed, blocked], subject: "s", text: "t" })).json()) as {
      id: string;
    };
    await waitForEmail(apiKey, mixed.id, (e) => e.status === "sent");
    await sleep(200);
    expect(await receivedBy(t)).toEqual({ [allowed]: 1 });
  });

  it("holds a scheduled email until it is due, and cancels it", async () => {
    const { apiKey } = await newTenant();
    await sinkProvider(apiKey);
    const later = new Date(Date.now() + 3_600_000).toISOString();
    const { id } = (await (
      await send(apiKey, { from: "app@example.test", to: `s.${tag()}@example.test`, subject: "s", text: "t", scheduled_at: later })
    ).json()) as { id: string };
    expect(await getEmail(apiKey, id)).toMatchObject({ status: "scheduled", scheduled_at: later });
    const cancelled = await call(`/v1/emails/${id}/cancel`, { method: "POST", token: apiKey });
    expect(await cancelled.json()).toEqual({ object: "email", id });
    expect(await getEmail(apiKey, id)).toMatchObject({ status: "canceled", last_event: "canceled" });
    await expectProblem(await call(`/v1/emails/${id}/cancel`, { method: "POST", token: apiKey }), 409, "conflict");
  });
});

describe("POST /v1/emails/batch", () => {
  it("sends up to 100 at once", async () => {
    const { apiKey } = await newTenant();
    await sinkProvider(apiKey);
    const t = tag();
    const batch = Array.from({ length: 30 }, (_, i) => ({
      from: "app@example.test",
      to: `b${i}.${t}@example.test`,
      subject: `n${i}`,
      text: "t",
    }));
    const res = await call("/v1/emails/batch", { method: "POST", token: apiKey, json: batch });
    expect(res.status, await res.clone().text()).toBe(202);
    const { data } = (await res.json()) as { data: { id: string }[] };
    expect(data).toHaveLength(30);
    await waitForEmail(apiKey, data.at(-1)!.id, (e) => e.status === "sent");
    const until = Date.now() + 10_000;
    while (Object.keys(await receivedBy(t)).length < 30 && Date.now() < until) await sleep(100);
    const received = await receivedBy(t);
    expect(Object.keys(received)).toHaveLength(30);
    expect(Object.values(received).every((n) => n === 1)).toBe(true);
  });

  it("strict validation takes all or none; permissive sends the valid ones and lists the rest", async () => {
    const { apiKey } = await newTenant();
    await sinkProvider(apiKey);
    const good = { from: "app@example.test", to: `g.${tag()}@example.test`, subject: "s", text: "t" };
    const strict = await expectProblem(
      await call("/v1/emails/batch", { method: "POST", token: apiKey, json: [good, { ...good, to: "nope" }] }),
      422,
      "validation_failed",
    );
    expect(strict.errors!.map((e) => e.field)).toEqual(["body[1].to"]);
    const res = await call("/v1/emails/batch", {
      method: "POST",
      token: apiKey,
      json: [good, { ...good, to: "nope" }],
      headers: { "x-batch-validation": "permissive" },
    });
    expect(res.status).toBe(202);
    const body = (await res.json()) as { data: { id: string }[]; errors: { index: number; message: string }[] };
    expect(body.data).toHaveLength(1);
    expect(body.errors).toEqual([{ index: 1, message: expect.stringContaining("body[1].to") }]);
    await expectProblem(
      await call("/v1/emails/batch", { method: "POST", token: apiKey, json: Array.from({ length: 101 }, () => good) }),
      422,
      "validation_failed",
    );
  });
});

describe("Idempotency-Key", () => {
  it("replays the first response for the same request and sends once; a different request under the key is 409", async () => {
    const { apiKey } = await newTenant();
    await sinkProvider(apiKey);
    const t = tag();
    const body = { from: "app@example.test", to: `i.${t}@example.test`, subject: "once", text: "t" };
    const key = crypto.randomUUID();
    const first = await send(apiKey, body, { "idempotency-key": key });
    const firstBody = await first.json();
    const again = await send(apiKey, body, { "idempotency-key": key });
    expect(again.status).toBe(202);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(await again.json()).toEqual(firstBody);
    const conflict = await expectProblem(await send(apiKey, { ...body, subject: "twice" }, { "idempotency-key": key }), 409, "conflict");
    expect(conflict.name).toBe("invalid_idempotent_request");
    await waitForEmail(apiKey, (firstBody as { id: string }).id, (e) => e.status === "sent");
    await sleep(300);
    expect(await receivedBy(t)).toEqual({ [body.to]: 1 });
    // Keys are per tenant: another tenant may use the same one.
    const other = await newTenant();
    await sinkProvider(other.apiKey);
    const theirs = await send(other.apiKey, body, { "idempotency-key": key });
    expect(((await theirs.json()) as { id: string }).id).not.toBe((firstBody as { id: string }).id);
  });

  it("concurrent requests with one key create one email", async () => {
    const { apiKey } = await newTenant();
    await sinkProvider(apiKey);
    const body = { from: "app@example.test", to: `c.${tag()}@example.test`, subject: "s", text: "t" };
    const key = crypto.randomUUID();
    const responses = await Promise.all(Array.from({ length: 5 }, () => send(apiKey, body, { "idempotency-key": key })));
    const ids = await Promise.all(responses.map(async (r) => ((await r.json()) as { id: string }).id));
    expect(responses.every((r) => r.status === 202)).toBe(true);
    expect(new Set(ids).size).toBe(1);
  });

  it("refuses a key longer than 256 characters", async () => {
    const { apiKey } = await newTenant();
    const problem = await expectProblem(
      await send(apiKey, { from: "a@b.test", to: "c@d.test", subject: "s", text: "t" }, { "idempotency-key": "k".repeat(257) }),
      400,
      "bad_request",
    );
    expect(problem.name).toBe("invalid_idempotency_key");
  });
});

describe("transactional mail next to a campaign", () => {
  it("is sent while a large campaign drains through the same provider", { timeout: 60_000 }, async () => {
    const { apiKey } = await newTenant();
    const provider = await sinkProvider(apiKey, { rate: 10 });
    const t = tag();
    const { listId } = await audience(apiKey, t, 150);
    const id = await campaign(apiKey, { templateId: await template(apiKey), listIds: [listId], providerIds: [provider] });
    expect((await launch(apiKey, id)).status).toBe(202);
    // Let the campaign use up the campaign share of the bucket.
    const until = Date.now() + 10_000;
    while ((await getCampaign(apiKey, id)).counts.sent < 10 && Date.now() < until) await sleep(100);
    const started = Date.now();
    const res = await send(apiKey, { from: "app@example.test", to: `urgent.${t}@example.test`, subject: "reset your password", text: "t" });
    const { id: emailId } = (await res.json()) as { id: string };
    const sent = await waitForEmail(apiKey, emailId, (e) => e.status === "sent", 10_000);
    expect(sent.status).toBe("sent");
    const waited = Date.now() - started;
    const during = await getCampaign(apiKey, id);
    expect(during.state).toBe("sending");
    expect(during.counts.sent).toBeLessThan(150);
    // At 8 campaign sends a second, the ~140 recipients still queued would take over 15 s.
    expect(waited).toBeLessThan(5_000);
    await call(`/v1/campaigns/${id}/cancel`, { method: "POST", token: apiKey });
  });
});

describe("the ProviderLimiter's transactional share", () => {
  it("campaign leases leave the reserved share; transactional leases may take it", async () => {
    const stub = env.PROVIDER_LIMITER.get(env.PROVIDER_LIMITER.idFromName(`unit:${crypto.randomUUID()}`));
    const settings = { ratePerSecond: 10, dailyQuota: 0, reserveShare: 0.3 };
    const now = Date.now();
    const campaignLease = await stub.leaseBatch([1, 1, 1, 1, 1, 1, 1, 1, 1, 1], settings, now);
    expect(campaignLease.grantedMessages).toBe(7);
    expect(campaignLease.limitedBy).toBe("rate");
    const transactional = await stub.leaseBatch([1, 1, 1, 1], settings, now, "transactional");
    expect(transactional.grantedMessages).toBe(3);
  });
});
