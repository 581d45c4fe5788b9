import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { loadProviders } from "../src/providers/registry";
import { createCache } from "../src/services/cache";
import { openDb } from "../src/services/db";
import { sinkProvider, template } from "./campaign-helpers";
import { call, expectProblem, newTenant } from "./helpers";

type TestEnv = Env & { TEST_UPSTASH_URL: string; TEST_UPSTASH_TOKEN: string };
const upstash = {
  UPSTASH_REDIS_REST_URL: (env as TestEnv).TEST_UPSTASH_URL,
  UPSTASH_REDIS_REST_TOKEN: (env as TestEnv).TEST_UPSTASH_TOKEN,
};
const backends: [string, Partial<Env>, boolean][] = [
  ["Workers KV", {}, false],
  ["Upstash Redis (local REST endpoint over redis-server)", upstash, !upstash.UPSTASH_REDIS_REST_URL],
];
if (!upstash.UPSTASH_REDIS_REST_URL) console.warn("redis-server is not installed: the Upstash cache tests are skipped");

// A database URL that cannot work: a request that still succeeds made no Postgres round trip.
const noDatabase = { DATABASE_URL: "postgres://nobody:nothing@127.0.0.1:1/none" };

for (const [name, backend, skip] of backends) {
  describe.skipIf(skip)(`cache on ${name}`, () => {
    it(`reports its backend`, () => {
      expect(createCache({ ...env, ...backend }).backend).toBe(name.startsWith("Upstash") ? "upstash" : "kv");
    });

    it("a cached API key and a cached template answer without Postgres", async () => {
      const { apiKey } = await newTenant();
      const id = await template(apiKey);
      const warm = await call(`/v1/templates/${id}`, { token: apiKey, env: backend });
      expect(warm.status).toBe(200);
      const cold = await call(`/v1/templates/${id}`, { token: apiKey, env: { ...backend, ...noDatabase } });
      expect(cold.status, await cold.clone().text()).toBe(200);
      expect(await cold.json()).toEqual(await warm.json());
      // Without the cache the same request needs the database, and fails without it.
      const other = await template(apiKey);
      await expectProblem(await call(`/v1/templates/${other}`, { token: apiKey, env: { ...backend, ...noDatabase } }), 500, "internal");
    });

    it("revoking a key takes effect at once, cache or not", async () => {
      const { apiKey } = await newTenant();
      const created = (await (await call("/v1/api-keys", { method: "POST", token: apiKey, json: { name: "x" }, env: backend })).json()) as {
        id: string;
        key: string;
      };
      expect((await call("/v1/api-keys", { token: created.key, env: backend })).status).toBe(200);
      expect((await call(`/v1/api-keys/${created.id}`, { method: "DELETE", token: apiKey, env: backend })).status).toBe(200);
      await expectProblem(await call("/v1/api-keys", { token: created.key, env: backend }), 401, "unauthorized");
    });

    it("an unknown key is remembered as unknown", async () => {
      const unknown = `hk_${"Z".repeat(43)}`;
      await expectProblem(await call("/v1/api-keys", { token: unknown, env: backend }), 401, "unauthorized");
      await expectProblem(await call("/v1/api-keys", { token: unknown, env: { ...backend, ...noDatabase } }), 401, "unauthorized");
    });

    it("updating or deleting a template invalidates it", async () => {
      const { apiKey } = await newTenant();
      const id = await template(apiKey, { subject: "v1" });
      expect(((await (await call(`/v1/templates/${id}`, { token: apiKey, env: backend })).json()) as { subject: string }).subject).toBe(
        "v1",
      );
      expect((await call(`/v1/templates/${id}`, { method: "PATCH", token: apiKey, json: { subject: "v2" }, env: backend })).status).toBe(
        200,
      );
      expect(((await (await call(`/v1/templates/${id}`, { token: apiKey, env: backend })).json()) as { subject: string }).subject).toBe(
        "v2",
      );
      expect((await call(`/v1/templates/${id}`, { method: "DELETE", token: apiKey, env: backend })).status).toBe(204);
      await expectProblem(await call(`/v1/templates/${id}`, { token: apiKey, env: backend }), 404, "not_found");
    });

    it("provider configs are cached with their credentials still encrypted, and an update invalidates them", async () => {
      const { apiKey, tenantId } = await newTenant();
      const id = await sinkProvider(apiKey, { rate: 50 });
      const cache = createCache({ ...env, ...backend });
      const handle = openDb(env);
      try {
        expect((await loadProviders(handle.db, env, tenantId, [id], cache)).get(id)?.ratePerSecond).toBe(50);
        const cached = await cache.get<{ credentials: string | null; ratePerSecond: number }>(`provider:${tenantId}:${id}`);
        expect(cached?.ratePerSecond).toBe(50);
        expect(
          (await call(`/v1/providers/${id}`, { method: "PATCH", token: apiKey, json: { rate_per_second: 75 }, env: backend })).status,
        ).toBe(200);
        expect((await loadProviders(handle.db, env, tenantId, [id], createCache({ ...env, ...backend }))).get(id)?.ratePerSecond).toBe(75);
      } finally {
        await handle.close();
      }
    });
  });
}

describe("HTTP caching of templates and campaigns", () => {
  it("answers with an ETag and Cache-Control, 304 on If-None-Match, and a new ETag after a change", async () => {
    const { apiKey } = await newTenant();
    const id = await template(apiKey);
    const first = await call(`/v1/templates/${id}`, { token: apiKey });
    const tag = first.headers.get("etag");
    expect(tag).toMatch(/^W\/"/);
    expect(first.headers.get("cache-control")).toBe("private, no-cache");
    const again = await call(`/v1/templates/${id}`, { token: apiKey, headers: { "if-none-match": tag! } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
    await call(`/v1/templates/${id}`, { method: "PATCH", token: apiKey, json: { subject: "changed" } });
    const changed = await call(`/v1/templates/${id}`, { token: apiKey, headers: { "if-none-match": tag! } });
    expect(changed.status).toBe(200);
    expect(changed.headers.get("etag")).not.toBe(tag);
  });

  it("campaigns too", async () => {
    const { apiKey } = await newTenant();
    const created = await call("/v1/campaigns", { token: apiKey });
    expect(created.status).toBe(200);
    const list = await call("/v1/lists", { method: "POST", token: apiKey, json: { name: "l" } });
    const listId = ((await list.json()) as { id: string }).id;
    const campaign = await call("/v1/campaigns", {
      method: "POST",
      token: apiKey,
      json: {
        name: "c",
        template_id: await template(apiKey),
        list_ids: [listId],
        provider_ids: [await sinkProvider(apiKey)],
        from: "a@b.test",
      },
    });
    const cid = ((await campaign.json()) as { id: string }).id;
    const first = await call(`/v1/campaigns/${cid}`, { token: apiKey });
    const tag = first.headers.get("etag")!;
    expect(first.headers.get("cache-control")).toBe("private, no-cache");
    expect((await call(`/v1/campaigns/${cid}`, { token: apiKey, headers: { "if-none-match": tag } })).status).toBe(304);
  });
});
