import { and, count, eq } from "drizzle-orm";
import { listMembers, lists } from "../db/schema";
import { HeraldError } from "../errors";
import { findTenantRow } from "../lib/tenant-rows";
import type { Db } from "../services/db";

export function noSuchList(): HeraldError {
  return new HeraldError("not_found", "no such list");
}

export function findList(db: Db, tenantId: string, id: string) {
  return findTenantRow(db, lists, tenantId, id, noSuchList);
}

export function nameTaken(name: string): HeraldError {
  return new HeraldError("conflict", `a list named ${JSON.stringify(name)} already exists`);
}

export async function memberCount(db: Db, tenantId: string, listId: string): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(listMembers)
    .where(and(eq(listMembers.tenantId, tenantId), eq(listMembers.listId, listId)));
  return row?.n ?? 0;
}
