import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { providers } from "../../src/db/schema";
import { encryptJson } from "../../src/lib/crypto";
import { credentialsAad, loadProviders } from "../../src/providers/registry";
import { openDb } from "../../src/services/db";
import { call, newTenant } from "../helpers";
import { email, failure, stubs } from "./helpers";

const s = stubs();

async function createProvider(token: string, body: Record<string, unknown>): Promise<string> {
  const res = await call("/v1/providers", { method: "POST", token, json: body });
  expect(res.status, await res.clone().text()).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

async function withDb<T>(work: (db: ReturnType<typeof openDb>["db"]) => Promise<T>): Promise<T> {
  const handle = openDb(env);
  try {
    return await work(handle.db);
  } finally {
    await handle.close();
  }
}

describe("loadProviders", () => {
  it("loads the tenant's providers in one go, decrypted and ready to send, and nobody else's", async () => {
    const owner = await newTenant();
    const other = await newTenant();
    const resend = await createProvider(owner.apiKey, {
      name: "resend",
      kind: "resend",
      config: { base_url: s.resend.baseUrl },
      credentials: { api_key: s.resend.apiKey },
      rate_per_second: 20,
      daily_quota: 500,
      enabled: false,
    });
    const sink = await createProvider(owner.apiKey, { name: "sink", kind: "sink", config: { url: s.sink.url } });
    const foreign = await createProvider(other.apiKey, { name: "theirs", kind: "sink", config: { url: s.sink.url } });

    const loaded = await withDb((db) => loadProviders(db, env, owner.tenantId, [resend, sink, foreign, "not-a-uuid", resend]));
    expect([...loaded.keys()].sort()).toEqual([resend, sink].sort());
    expect(loaded.get(resend)).toMatchObject({
      id: resend,
      name: "resend",
      kind: "resend",
      ratePerSecond: 20,
      dailyQuota: 500,
      enabled: false,
    });
    const [result] = await loaded.get(resend)!.provider.send([email()]);
    expect(result!.status).toBe("accepted");
    expect(await withDb((db) => loadProviders(db, env, owner.tenantId, []))).toEqual(new Map());
  });

  it("reuses a built provider until the row changes", async () => {
    const { apiKey, tenantId } = await newTenant();
    const id = await createProvider(apiKey, { name: "sink", kind: "sink", config: { url: s.sink.url } });
    const first = (await withDb((db) => loadProviders(db, env, tenantId, [id]))).get(id)!.provider;
    const again = (await withDb((db) => loadProviders(db, env, tenantId, [id]))).get(id)!.provider;
    expect(again).toBe(first);
    await call(`/v1/providers/${id}`, { method: "PATCH", token: apiKey, json: { config: { url: s.sink.faultyUrl } } });
    const rebuilt = (await withDb((db) => loadProviders(db, env, tenantId, [id]))).get(id)!.provider;
    expect(rebuilt).not.toBe(first);
  });

  it("makes a provider whose credentials do not open fail every send as misconfigured", async () => {
    const { apiKey, tenantId } = await newTenant();
    const victim = await createProvider(apiKey, {
      name: "a",
      kind: "resend",
      config: { base_url: s.resend.baseUrl },
      credentials: { api_key: s.resend.apiKey },
    });
    // A blob sealed for another row: the additional data binds credentials to their provider.
    const transplanted = await encryptJson({ api_key: s.resend.apiKey }, env.ENCRYPTION_KEY, credentialsAad(crypto.randomUUID()));
    await withDb((db) => db.update(providers).set({ credentials: transplanted, updatedAt: new Date() }).where(eq(providers.id, victim)));
    const loaded = (await withDb((db) => loadProviders(db, env, tenantId, [victim]))).get(victim)!;
    const err = await failure(loaded.provider.send([email()]));
    expect(err.kind).toBe("misconfigured");
    expect(err.message).toMatch(/decrypt/);
  });
});
