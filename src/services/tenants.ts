import { eq } from "drizzle-orm";
import { tenants } from "../db/schema";
import type { Cache } from "./cache";
import type { Db } from "./db";

export interface TenantInfo {
  id: string;
  plan: "free" | "pro" | "enterprise";
  settings: Record<string, unknown>;
}

const TTL_SECONDS = 300;
/**
 * How long "no such tenant" is remembered (KV's shortest TTL). Tenant ids are random UUIDv7s made
 * at creation, so no lookup can precede its tenant and be wrong later; the entry only spares the
 * database a query per request from a credential whose tenant is gone.
 */
const MISSING_TTL_SECONDS = 60;

export const tenantCacheKey = (tenantId: string) => `tenant:${tenantId}`;

type Cached = TenantInfo | { missing: true };

/** The tenant's plan and settings, read through the cache (they change rarely); undefined when there is none. */
export async function getTenant(db: Db, cache: Cache, tenantId: string): Promise<TenantInfo | undefined> {
  const key = tenantCacheKey(tenantId);
  const hit = await cache.get<Cached>(key).catch(() => undefined);
  if (hit) return "missing" in hit ? undefined : hit;
  const [row] = await db
    .select({ id: tenants.id, plan: tenants.plan, settings: tenants.settings })
    .from(tenants)
    .where(eq(tenants.id, tenantId))
    .limit(1);
  if (!row) {
    await cache.set(key, { missing: true } satisfies Cached, MISSING_TTL_SECONDS).catch(() => {});
    return undefined;
  }
  const info: TenantInfo = {
    id: row.id,
    plan: (["free", "pro", "enterprise"].includes(row.plan) ? row.plan : "free") as TenantInfo["plan"],
    settings: row.settings,
  };
  await cache.set(key, info, TTL_SECONDS).catch(() => {});
  return info;
}
