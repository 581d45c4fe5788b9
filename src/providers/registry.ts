import { and, eq, inArray } from "drizzle-orm";
import { providers, type ProviderKind } from "../db/schema";
import { decryptJson, DecryptionError } from "../lib/crypto";
import { destinationPolicy } from "../lib/destination";
import { isUuid } from "../lib/ids";
import { TtlCache } from "../lib/ttl-cache";
import type { Cache } from "../services/cache";
import type { Db } from "../services/db";
import { providerDestination } from "./destination";
import { createProvider, type ProviderDeps } from "./index";
import { ProviderError, type EmailProvider } from "./types";

export interface LoadedProvider {
  id: string;
  name: string;
  kind: ProviderKind;
  ratePerSecond: number;
  dailyQuota: number;
  enabled: boolean;
  provider: EmailProvider;
}

type ProviderRow = typeof providers.$inferSelect;

/** The additional data that binds a credentials blob to its row: a blob copied elsewhere will not open. */
export function credentialsAad(providerId: string): string {
  return `herald:provider:${providerId}`;
}

/** Stands in for a provider whose stored settings cannot be used, so failover can pass over it. */
function unusable(kind: ProviderKind, reason: string): EmailProvider {
  return {
    kind,
    maxBatchSize: 100,
    send: () => Promise.reject(new ProviderError("misconfigured", reason)),
  };
}

/** What building an adapter reads from the environment; DEV_ALLOW_LOOPBACK absent means production. */
export type ProviderEnv = Pick<Env, "ENCRYPTION_KEY"> & Partial<Pick<Env, "DEV_ALLOW_LOOPBACK">>;

/**
 * Builds the adapter for a stored provider, decrypting its credentials. A missing or malformed
 * ENCRYPTION_KEY is the operator's problem and throws ConfigError; a blob that does not open or
 * settings that no longer validate make an adapter that fails every send as misconfigured.
 *
 * The destination is checked again here, on every build, before the credentials are even opened: a
 * row stored before the check existed, or under a looser DEV_ALLOW_LOOPBACK, must not reach the
 * network. Such an adapter fails every send as misconfigured, before any request, so nothing was sent.
 */
export async function providerFromRow(row: ProviderRow, env: ProviderEnv, deps?: ProviderDeps): Promise<EmailProvider> {
  const destination = providerDestination(row.kind, row.config);
  const refused = destination?.problem(destinationPolicy(env));
  if (destination && refused) {
    return unusable(row.kind, `herald refuses to send to this provider: config.${destination.field} ${refused}`);
  }
  let credentials: unknown = null;
  if (row.credentials) {
    try {
      credentials = await decryptJson(row.credentials, env.ENCRYPTION_KEY, credentialsAad(row.id));
    } catch (err) {
      if (err instanceof DecryptionError)
        return unusable(row.kind, "the stored credentials cannot be decrypted with ENCRYPTION_KEY; set them again");
      throw err;
    }
  }
  try {
    return createProvider(row.kind, row.config, credentials, deps);
  } catch (err) {
    if (err instanceof ProviderError) return unusable(row.kind, err.message);
    throw err;
  }
}

interface Entry {
  tenantId: string;
  allowLoopback: boolean;
  updatedAt: number;
  provider: EmailProvider;
}
/** Per isolate: a send consumer should not decrypt and rebuild on every batch. */
const built = new TtlCache<Entry>(500, 60_000);

async function cachedProvider(row: ProviderRow, env: ProviderEnv): Promise<EmailProvider> {
  const hit = built.get(row.id);
  const { allowLoopback } = destinationPolicy(env);
  // updated_at changes on every write, so an edited provider is rebuilt at once; the TTL bounds the rest.
  if (hit && hit.tenantId === row.tenantId && hit.allowLoopback === allowLoopback && hit.updatedAt === row.updatedAt.getTime()) {
    return hit.provider;
  }
  const provider = await providerFromRow(row, env);
  built.set(row.id, { tenantId: row.tenantId, allowLoopback, updatedAt: row.updatedAt.getTime(), provider });
  return provider;
}

/** A provider row read through the cache; credentials stay encrypted there. Writes delete the entry. */
export const PROVIDER_CACHE_SECONDS = 300;
export const providerCacheKey = (tenantId: string, id: string) => `provider:${tenantId}:${id.toLowerCase()}`;

type CachedRow = Omit<ProviderRow, "createdAt" | "updatedAt"> & { createdAt: string; updatedAt: string };

/**
 * The tenant's providers among `ids`: from the cache where it has them, the rest in one query. Ids
 * that are not the tenant's are simply absent.
 */
export async function loadProviders(
  db: Db,
  env: Env,
  tenantId: string,
  ids: string[],
  cache?: Cache,
): Promise<Map<string, LoadedProvider>> {
  const wanted = [...new Set(ids.filter(isUuid).map((id) => id.toLowerCase()))];
  const out = new Map<string, LoadedProvider>();
  if (wanted.length === 0) return out;
  const rows: ProviderRow[] = [];
  const missing: string[] = [];
  for (const id of wanted) {
    const hit = cache ? await cache.get<CachedRow>(providerCacheKey(tenantId, id)).catch(() => undefined) : undefined;
    if (hit) rows.push({ ...hit, createdAt: new Date(hit.createdAt), updatedAt: new Date(hit.updatedAt) });
    else missing.push(id);
  }
  if (missing.length > 0) {
    const fresh = await db
      .select()
      .from(providers)
      .where(and(eq(providers.tenantId, tenantId), inArray(providers.id, missing)));
    for (const row of fresh) {
      rows.push(row);
      await cache
        ?.set(
          providerCacheKey(tenantId, row.id),
          { ...row, createdAt: row.createdAt.toISOString(), updatedAt: row.updatedAt.toISOString() },
          PROVIDER_CACHE_SECONDS,
        )
        .catch(() => {});
    }
  }
  for (const row of rows) {
    out.set(row.id, {
      id: row.id,
      name: row.name,
      kind: row.kind,
      ratePerSecond: row.ratePerSecond,
      dailyQuota: row.dailyQuota,
      enabled: row.enabled,
      provider: await cachedProvider(row, env),
    });
  }
  return out;
}
