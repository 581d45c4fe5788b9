import { and, count, desc, eq, getTableColumns, lt, sql } from "drizzle-orm";
import { contacts, listMembers, lists } from "../db/schema";
import { HeraldError } from "../errors";
import { uuidv7 } from "../lib/ids";
import { idPage, newestFirst, type Page, type PageRequest } from "../lib/keyset";
import { FOREIGN_KEY_VIOLATION, pgErrorCode, UNIQUE_VIOLATION } from "../lib/pg-error";
import { deleteTenantRow, findTenantRow } from "../lib/tenant-rows";
import type { Db } from "../services/db";

export type ListRow = typeof lists.$inferSelect;
type ContactRow = typeof contacts.$inferSelect;

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

/** A page of the tenant's lists, newest first. */
export function listPage<Dto>(db: Db, tenantId: string, query: PageRequest, toDto: (row: ListRow) => Dto): Promise<Page<Dto>> {
  return newestFirst(db, lists, tenantId, query, toDto);
}

/** A new list; a name the tenant already uses is a 409. */
export async function createList(db: Db, tenantId: string, list: { name: string; description: string | null }) {
  const [row] = await db
    .insert(lists)
    .values({ id: uuidv7(), tenantId, name: list.name, description: list.description })
    .onConflictDoNothing({ target: [lists.tenantId, lists.name] })
    .returning();
  if (!row) throw nameTaken(list.name);
  return row;
}

/** Renames a list or changes its description; a name the tenant already uses is a 409. */
export async function updateList(db: Db, tenantId: string, listId: string, changes: { name?: string; description?: string | null }) {
  let row: ListRow | undefined;
  try {
    [row] = await db
      .update(lists)
      .set({
        ...(changes.name !== undefined && { name: changes.name }),
        ...(changes.description !== undefined && { description: changes.description }),
      })
      .where(and(eq(lists.tenantId, tenantId), eq(lists.id, listId)))
      .returning();
  } catch (err) {
    if (pgErrorCode(err) === UNIQUE_VIOLATION && changes.name) throw nameTaken(changes.name);
    throw err;
  }
  if (!row) throw noSuchList();
  return row;
}

/** Deletes the tenant's list (its contacts stay) and answers its id. */
export function deleteList(db: Db, tenantId: string, id: string): Promise<string> {
  return deleteTenantRow(db, lists, tenantId, id, noSuchList);
}

/**
 * Adds the tenant's contacts among `contactIds` (lower-case UUIDs) to the list in one statement:
 * the ids found among the tenant's contacts, and how many joined (ones already in it are not counted).
 */
export async function addMembers(db: Db, tenantId: string, listId: string, contactIds: string[]) {
  // The tenant filter on contacts is what keeps another tenant's contact ids out of the list.
  const query = sql`
    WITH found AS (
      SELECT id FROM contacts WHERE tenant_id = ${tenantId}::uuid AND id = ANY(${sql.param(contactIds)}::uuid[])
    ), added AS (
      INSERT INTO list_members (tenant_id, list_id, contact_id)
      SELECT ${tenantId}::uuid, ${listId}::uuid, id FROM found
      ON CONFLICT DO NOTHING
      RETURNING contact_id
    )
    SELECT (SELECT coalesce(array_agg(id::text), '{}') FROM found) AS found, (SELECT count(*) FROM added)::int AS added`;
  try {
    const result = await db.execute<{ found: string[]; added: number }>(query);
    return { found: new Set(result.rows[0]!.found), added: Number(result.rows[0]!.added) };
  } catch (err) {
    if (pgErrorCode(err) === FOREIGN_KEY_VIOLATION) throw noSuchList();
    throw err;
  }
}

/** A page of the contacts on the tenant's list `id`, newest contact first. */
export function memberPage<Dto>(
  db: Db,
  tenantId: string,
  id: string,
  query: PageRequest,
  toDto: (row: ContactRow) => Dto,
): Promise<Page<Dto>> {
  return idPage(
    query,
    async (after, take) => {
      const list = await findList(db, tenantId, id);
      // Keyset on the membership's primary key (tenant_id, list_id, contact_id), so deep pages stay cheap.
      return db
        .select(getTableColumns(contacts))
        .from(listMembers)
        .innerJoin(contacts, and(eq(contacts.tenantId, listMembers.tenantId), eq(contacts.id, listMembers.contactId)))
        .where(
          and(eq(listMembers.tenantId, tenantId), eq(listMembers.listId, list.id), after ? lt(listMembers.contactId, after) : undefined),
        )
        .orderBy(desc(listMembers.contactId))
        .limit(take);
    },
    toDto,
  );
}

/** Takes a contact off a list; false when it was not on it. */
export async function removeMember(db: Db, tenantId: string, listId: string, contactId: string): Promise<boolean> {
  const removed = await db
    .delete(listMembers)
    .where(and(eq(listMembers.tenantId, tenantId), eq(listMembers.listId, listId), eq(listMembers.contactId, contactId)))
    .returning({ contactId: listMembers.contactId });
  return removed.length > 0;
}
