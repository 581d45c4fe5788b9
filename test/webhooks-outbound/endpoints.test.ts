import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { webhookEndpoints } from "../../src/db/schema";
import { openWebhookSecret, verifyWebhook } from "../../src/webhooks/outbound/sign";
import { withDb as rows, call, expectProblem, newTenant } from "../helpers";
import { type Endpoint, createEndpoint, deliveriesOf, json, received } from "./helpers";
import { captureQueue, consume, oneDelivery } from "./queue";

describe("/v1/webhooks endpoints", () => {
  it("creates an endpoint and shows its signing secret once, never again", async () => {
    const { apiKey } = await newTenant();
    const created = await createEndpoint(apiKey, {
      url: "https://example.com/hooks",
      event_types: ["email.delivered", "email.bounced", "email.delivered"],
      description: "  prod  ",
    });
    expect(created).toMatchObject({
      url: "https://example.com/hooks",
      event_types: ["email.delivered", "email.bounced"],
      description: "prod",
      enabled: true,
    });
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(atob(created.secret.slice(6))).toHaveLength(32);
    const { secret, ...dto } = created;

    const bodies = [
      await (await call(`/v1/webhooks/${dto.id}`, { token: apiKey })).text(),
      await (await call("/v1/webhooks", { token: apiKey })).text(),
      await (await call(`/v1/webhooks/${dto.id}`, { method: "PATCH", token: apiKey, json: { enabled: false } })).text(),
    ];
    for (const body of bodies) {
      expect(body).not.toContain(secret.slice(6));
      expect(body).not.toMatch(/"secret"/);
    }
    expect(JSON.parse(bodies[0]!)).toEqual(dto);

    const stored = await rows(async (db) => (await db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, dto.id)))[0]!);
    expect(stored.secret).toMatch(/^v1\./);
    expect(stored.secret).not.toContain(secret.slice(6));
    expect(await openWebhookSecret(dto.id, stored.secret, env)).toBe(secret);
    // Bound to its endpoint: the same blob does not open as another endpoint's secret.
    await expect(openWebhookSecret(crypto.randomUUID(), stored.secret, env)).rejects.toThrow();
  });

  it("lists newest first with a cursor, gets, patches and deletes", async () => {
    const { apiKey } = await newTenant();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await createEndpoint(apiKey, { url: `https://example.com/h/${i}` })).id);

    const first = await json<{ data: Endpoint[]; next_cursor: string | null }>(await call("/v1/webhooks?limit=2", { token: apiKey }), 200);
    expect(first.data.map((e) => e.id)).toEqual([ids[2], ids[1]]);
    expect(first.next_cursor).toBeTruthy();
    const second = await json<{ data: Endpoint[]; next_cursor: string | null }>(
      await call(`/v1/webhooks?limit=2&cursor=${first.next_cursor}`, { token: apiKey }),
      200,
    );
    expect(second.data.map((e) => e.id)).toEqual([ids[0]]);
    expect(second.next_cursor).toBeNull();
    expect(first.data[0]).toMatchObject({ event_types: [], description: null, enabled: true });

    const patched = await json<Endpoint>(
      await call(`/v1/webhooks/${ids[0]}`, {
        method: "PATCH",
        token: apiKey,
        json: { url: "https://example.com/new", event_types: ["email.opened"], description: "new", enabled: false },
      }),
      200,
    );
    expect(patched).toMatchObject({ url: "https://example.com/new", event_types: ["email.opened"], description: "new", enabled: false });
    expect(Date.parse(patched.updated_at)).toBeGreaterThanOrEqual(Date.parse(patched.created_at));
    const cleared = await json<Endpoint>(
      await call(`/v1/webhooks/${ids[0]}`, { method: "PATCH", token: apiKey, json: { event_types: [], description: null } }),
      200,
    );
    expect(cleared).toMatchObject({ event_types: [], description: null, url: "https://example.com/new" });

    expect((await call(`/v1/webhooks/${ids[0]}`, { method: "DELETE", token: apiKey })).status).toBe(204);
    await expectProblem(await call(`/v1/webhooks/${ids[0]}`, { token: apiKey }), 404, "not_found");
    await expectProblem(await call(`/v1/webhooks/${ids[0]}`, { method: "DELETE", token: apiKey }), 404, "not_found");
  });

  it("rotates the signing secret; the new one is shown once and signs from then on", async () => {
    const { t, tenant, endpoint, message } = await oneDelivery((t) => `/ok/${t}`);
    const rotated = await json<Endpoint & { secret: string }>(
      await call(`/v1/webhooks/${endpoint.id}/rotate-secret`, { method: "POST", token: tenant.apiKey }),
      200,
    );
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(endpoint.secret);
    expect(rotated.id).toBe(endpoint.id);
    await consume([message]);
    const [req] = await received(t);
    expect((await verifyWebhook(rotated.secret, req!.headers, req!.body)).ok).toBe(true);
    expect(await verifyWebhook(endpoint.secret, req!.headers, req!.body)).toEqual({ ok: false, reason: "bad_signature" });
  });

  it("answers validation problems naming each field", async () => {
    const { apiKey } = await newTenant();
    const bad = await expectProblem(
      await call("/v1/webhooks", {
        method: "POST",
        token: apiKey,
        json: { url: "ftp://example.com/x", event_types: ["email.nope"], colour: "red" },
      }),
      422,
      "validation_failed",
    );
    expect(bad.errors!.map((e) => e.field).sort()).toEqual(["body.colour", "body.event_types.0", "body.url"]);

    for (const url of [
      "not a url",
      "/relative/path",
      "javascript:alert(1)",
      `https://example.com/${"x".repeat(2048)}`,
      "http://example.com/plain",
      "https://user:pass@example.com/hook",
    ]) {
      const p = await expectProblem(await call("/v1/webhooks", { method: "POST", token: apiKey, json: { url } }), 422, "validation_failed");
      expect(p.errors!.map((e) => e.field)).toEqual(["body.url"]);
    }
    const missing = await expectProblem(await call("/v1/webhooks", { method: "POST", token: apiKey, json: {} }), 422, "validation_failed");
    expect(missing.errors!.map((e) => e.field)).toEqual(["body.url"]);
    const types = await expectProblem(
      await call("/v1/webhooks", {
        method: "POST",
        token: apiKey,
        json: { url: "https://example.com", event_types: "email.sent", enabled: "yes" },
      }),
      422,
      "validation_failed",
    );
    expect(types.errors!.map((e) => e.field).sort()).toEqual(["body.enabled", "body.event_types"]);

    const { id } = await createEndpoint(apiKey, { url: "https://example.com/ok" });
    await expectProblem(await call(`/v1/webhooks/${id}`, { method: "PATCH", token: apiKey, json: {} }), 422, "validation_failed");
    const patch = await expectProblem(
      await call(`/v1/webhooks/${id}`, { method: "PATCH", token: apiKey, json: { url: "mailto:x@example.com", secret: "mine" } }),
      422,
      "validation_failed",
    );
    expect(patch.errors!.map((e) => e.field).sort()).toEqual(["body.secret", "body.url"]);
    const cursor = await expectProblem(await call("/v1/webhooks?cursor=nope!", { token: apiKey }), 422, "validation_failed");
    expect(cursor.errors!.map((e) => e.field)).toEqual(["query.cursor"]);
    const status = await expectProblem(
      await call(`/v1/webhooks/${id}/deliveries?status=lost&limit=0`, { token: apiKey }),
      422,
      "validation_failed",
    );
    expect(status.errors!.map((e) => e.field).sort()).toEqual(["query.limit", "query.status"]);
    await expectProblem(
      await call("/v1/webhooks", { method: "POST", token: apiKey, body: "{", headers: { "content-type": "application/json" } }),
      400,
      "malformed_json",
    );
  });

  it("keeps every tenant to its own endpoints and deliveries: anyone else's are 404", async () => {
    const { tenant: a, endpoint, message } = await oneDelivery((t) => `/ok/${t}`);
    const b = await newTenant();
    const deliveryId = message.delivery_id;
    const q = captureQueue();
    const attempts: [string, string, unknown?][] = [
      ["GET", `/v1/webhooks/${endpoint.id}`],
      ["PATCH", `/v1/webhooks/${endpoint.id}`, { enabled: false }],
      ["DELETE", `/v1/webhooks/${endpoint.id}`],
      ["POST", `/v1/webhooks/${endpoint.id}/rotate-secret`],
      ["GET", `/v1/webhooks/${endpoint.id}/deliveries`],
      ["GET", `/v1/webhooks/${endpoint.id}/deliveries/${deliveryId}`],
      ["POST", `/v1/webhooks/${endpoint.id}/deliveries/${deliveryId}/redeliver`],
      ["GET", "/v1/webhooks/not-a-uuid"],
      ["GET", `/v1/webhooks/${endpoint.id}/deliveries/not-a-uuid`],
    ];
    for (const [method, path, body] of attempts) {
      await expectProblem(await call(path, { method, token: b.apiKey, json: body, env: { WEBHOOKS_QUEUE: q.queue } }), 404, "not_found");
    }
    expect(q.bodies()).toEqual([]);
    // B's own endpoint cannot reach A's delivery either.
    const mine = await createEndpoint(b.apiKey, { url: "https://example.com/b" });
    await expectProblem(await call(`/v1/webhooks/${mine.id}/deliveries/${deliveryId}`, { token: b.apiKey }), 404, "not_found");
    expect((await deliveriesOf(b.apiKey, mine.id)).data).toEqual([]);
    // A still has it all.
    expect((await json<Endpoint>(await call(`/v1/webhooks/${endpoint.id}`, { token: a.apiKey }), 200)).enabled).toBe(true);
    expect((await deliveriesOf(a.apiKey, endpoint.id)).data.map((d) => d.id)).toEqual([deliveryId]);
    expect((await json<{ data: Endpoint[] }>(await call("/v1/webhooks", { token: b.apiKey }), 200)).data.map((e) => e.id)).toEqual([
      mine.id,
    ]);
  });

  it("needs webhooks:read to read and webhooks:write to change", async () => {
    const { apiKey } = await newTenant();
    const { id } = await createEndpoint(apiKey, { url: "https://example.com/x" });
    const key = async (scopes: string[]) =>
      (
        await json<{ key: string }>(
          await call("/v1/api-keys", { method: "POST", token: apiKey, json: { name: scopes.join(","), scopes } }),
          201,
        )
      ).key;
    const reader = await key(["webhooks:read"]);
    const other = await key(["contacts:read"]);
    expect((await call(`/v1/webhooks/${id}`, { token: reader })).status).toBe(200);
    expect((await call(`/v1/webhooks/${id}/deliveries`, { token: reader })).status).toBe(200);
    await expectProblem(
      await call("/v1/webhooks", { method: "POST", token: reader, json: { url: "https://example.com" } }),
      403,
      "forbidden",
    );
    await expectProblem(await call(`/v1/webhooks/${id}`, { method: "DELETE", token: reader }), 403, "forbidden");
    await expectProblem(await call(`/v1/webhooks/${id}/rotate-secret`, { method: "POST", token: reader }), 403, "forbidden");
    await expectProblem(await call("/v1/webhooks", { token: other }), 403, "forbidden");
    await expectProblem(await call("/v1/webhooks"), 401, "unauthorized");
  });
});
