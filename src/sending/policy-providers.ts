import { and, asc, eq } from "drizzle-orm";
import { providers as providersTable } from "../db/schema";
import { loadProviders, type LoadedProvider } from "../providers/registry";
import { createCache } from "../services/cache";
import type { Db } from "../services/db";

const PROVIDERS_TTL_MS = 10_000;
const providerCache = new Map<string, { providers: Map<string, LoadedProvider>; at: number }>();

/**
 * A policy's providers, re-read at most every 10 s per isolate: a send batch needs them every
 * time, and an edit (rate, quota, enabled, credentials) reaches the senders within that bound.
 */
export async function policyProviders(db: Db, env: Env, tenantId: string, ids: string[]): Promise<Map<string, LoadedProvider>> {
  const key = `${tenantId}:${ids.join(",")}`;
  const hit = providerCache.get(key);
  if (hit && Date.now() - hit.at < PROVIDERS_TTL_MS) return hit.providers;
  const providers = await loadProviders(db, env, tenantId, ids, createCache(env));
  if (providerCache.size > 500) providerCache.clear();
  providerCache.set(key, { providers, at: Date.now() });
  return providers;
}

const POLICY_TTL_MS = 10_000;
const policies = new Map<string, { ids: string[]; at: number }>();

/** The tenant's enabled providers by priority, re-read at most every 10 s per isolate. */
export async function tenantPolicy(db: Db, tenantId: string): Promise<string[]> {
  const hit = policies.get(tenantId);
  if (hit && Date.now() - hit.at < POLICY_TTL_MS) return hit.ids;
  const rows = await db
    .select({ id: providersTable.id })
    .from(providersTable)
    .where(and(eq(providersTable.tenantId, tenantId), eq(providersTable.enabled, true)))
    .orderBy(asc(providersTable.priority), asc(providersTable.id));
  const ids = rows.map((r) => r.id);
  if (policies.size > 1000) policies.clear();
  policies.set(tenantId, { ids, at: Date.now() });
  return ids;
}
