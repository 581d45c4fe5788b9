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

export const tenantCacheKey = (tenantId: string) => `tenant:${tenantId}`;

/** The tenant's plan and settings, read through the cache (they change rarely). */
export async function getTenant(db: Db, cache: Cache, tenantId: string): Promise<TenantInfo | undefined> {
  const key = tenantCacheKey(tenantId);
  const hit = await cache.get<TenantInfo>(key).catch(() => undefined);
  if (hit) return hit;
  const [row] = await db.select({ id: tenants.id, plan: tenants.plan, settings: tenants.settings }).from(tenants).where(eq(tenants.id, tenantId)).limit(1);
  if (!row) return undefined;
  const info: TenantInfo = { id: row.id, plan: (["free", "pro", "enterprise"].includes(row.plan) ? row.plan : "free") as TenantInfo["plan"], settings: row.settings };
  await cache.set(key, info, TTL_SECONDS).catch(() => {});
  return info;
}
