import { and, count, eq } from "drizzle-orm";
import { listMembers, lists } from "../db/schema";
import { HeraldError } from "../errors";
import { isUuid } from "../lib/ids";
import type { Db } from "../services/db";

export function noSuchList(): HeraldError {
  return new HeraldError("not_found", "no such list");
}

/** Another tenant's list, or an id that is not even a UUID, is simply not found. */
export async function findList(db: Db, tenantId: string, id: string) {
  if (!isUuid(id)) throw noSuchList();
  const [row] = await db
    .select()
    .from(lists)
    .where(and(eq(lists.tenantId, tenantId), eq(lists.id, id.toLowerCase())))
    .limit(1);
  if (!row) throw noSuchList();
  return row;
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
