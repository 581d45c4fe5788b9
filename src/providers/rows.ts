import { and, eq } from "drizzle-orm";
import { providers } from "../db/schema";
import { HeraldError } from "../errors";
import { newestFirst, type Page, type PageRequest } from "../lib/keyset";
import { findTenantRow } from "../lib/tenant-rows";
import type { Db } from "../services/db";

// The SQL of the providers API: a tenant's provider rows as the routes read and change them.

export type ProviderRow = typeof providers.$inferSelect;
/** The columns a PATCH may change. */
export type ProviderChanges = Partial<typeof providers.$inferInsert>;

export function findProvider(db: Db, tenantId: string, id: string) {
  return findTenantRow(db, providers, tenantId, id, () => new HeraldError("not_found", "no such provider"));
}

/** A page of the tenant's providers, newest first. */
export function providerPage<Dto>(db: Db, tenantId: string, query: PageRequest, toDto: (row: ProviderRow) => Dto): Promise<Page<Dto>> {
  return newestFirst(db, providers, tenantId, query, toDto);
}

export async function insertProvider(db: Db, provider: typeof providers.$inferInsert): Promise<ProviderRow> {
  const [row] = await db.insert(providers).values(provider).returning();
  return row!;
}

/** The changed row, or undefined when it is gone. */
export async function updateProvider(db: Db, tenantId: string, id: string, changes: ProviderChanges): Promise<ProviderRow | undefined> {
  const [row] = await db
    .update(providers)
    .set(changes)
    .where(and(eq(providers.tenantId, tenantId), eq(providers.id, id)))
    .returning();
  return row;
}

export async function deleteProvider(db: Db, tenantId: string, id: string): Promise<void> {
  await db.delete(providers).where(and(eq(providers.tenantId, tenantId), eq(providers.id, id)));
}

/**
 * The provider an inbound webhook names, whichever tenant owns it: the webhook's URL is all a
 * provider sends, so the row (checked against its own webhook secret) says whose events they are.
 */
export async function inboundProvider(db: Db, providerId: string): Promise<ProviderRow | undefined> {
  const [row] = await db.select().from(providers).where(eq(providers.id, providerId)).limit(1);
  return row;
}
