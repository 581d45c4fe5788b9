import { and, eq } from "drizzle-orm";
import type { PgColumn, PgTable } from "drizzle-orm/pg-core";
import type { HeraldError } from "../errors";
import type { Db } from "../services/db";
import { uuidOr404 } from "./schemas";

/** A table whose rows belong to a tenant and are addressed by a uuid `id`. */
export type TenantTable = PgTable & { id: PgColumn; tenantId: PgColumn };

/** Another tenant's row, or an id that is not even a UUID, is simply not found. */
export async function findTenantRow<T extends TenantTable>(db: Db, table: T, tenantId: string, id: string, notFound: () => HeraldError) {
  const rows = await db
    .select()
    .from(table as PgTable)
    .where(and(eq(table.tenantId, tenantId), eq(table.id, uuidOr404(id, notFound))))
    .limit(1);
  // drizzle types a select from a generic table as untyped rows; the table's own row type is the truth.
  const [row] = rows as unknown as T["$inferSelect"][];
  if (!row) throw notFound();
  return row;
}

/** Deletes the tenant's row and answers its id; not found as findTenantRow is. */
export async function deleteTenantRow(
  db: Db,
  table: TenantTable,
  tenantId: string,
  id: string,
  notFound: () => HeraldError,
): Promise<string> {
  const [gone] = await db
    .delete(table)
    .where(and(eq(table.tenantId, tenantId), eq(table.id, uuidOr404(id, notFound))))
    .returning({ id: table.id });
  if (!gone) throw notFound();
  return gone.id as string;
}
