import { and, desc, eq, lt, type SQL } from "drizzle-orm";
import type { PgTable } from "drizzle-orm/pg-core";
import type { Db } from "../services/db";
import { cursorId, encodeCursor } from "./schemas";
import type { TenantTable } from "./tenant-rows";

/** What every list route answers with. */
export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

export interface PageRequest {
  cursor?: string;
  limit: number;
}

/**
 * A page from a `limit + 1` fetch: the extra row is never shown, it only says a next page exists,
 * so the last page has no cursor and no caller ever asks for an empty one.
 */
export function toPage<Row, Dto>(rows: Row[], limit: number, toDto: (row: Row) => Dto, cursorAfter: (last: Row) => string): Page<Dto> {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { data: page.map(toDto), next_cursor: rows.length > limit && last ? cursorAfter(last) : null };
}

/**
 * A page keyed on uuid ids. The cursor is read before `fetch` runs, so a forged cursor is the
 * same 422 whether or not the parent the route looks up inside `fetch` exists.
 */
export async function idPage<Row extends { id: string }, Dto>(
  query: PageRequest,
  fetch: (after: string | undefined, take: number) => Promise<Row[]>,
  toDto: (row: Row) => Dto,
): Promise<Page<Dto>> {
  const after = cursorId(query.cursor);
  const rows = await fetch(after, query.limit + 1);
  return toPage(rows, query.limit, toDto, (last) => encodeCursor(last.id));
}

/** The tenant's rows older than the cursor (ids are uuidv7, so older is smaller), and `filters`. */
export function tenantRowsBefore(
  table: TenantTable,
  tenantId: string,
  after: string | undefined,
  ...filters: (SQL | undefined)[]
): SQL | undefined {
  return and(eq(table.tenantId, tenantId), after ? lt(table.id, after) : undefined, ...filters);
}

/** A page of one tenant's rows of `table`, newest first: the shape of most list routes. */
export function newestFirst<T extends TenantTable, Dto>(
  db: Db,
  table: T,
  tenantId: string,
  query: PageRequest,
  toDto: (row: T["$inferSelect"]) => Dto,
  ...filters: (SQL | undefined)[]
): Promise<Page<Dto>> {
  type Row = T["$inferSelect"] & { id: string };
  return idPage(
    query,
    // drizzle types a select from a generic table as untyped rows; the table's own row type is the truth.
    async (after, take) =>
      (await db
        .select()
        .from(table as PgTable)
        .where(tenantRowsBefore(table, tenantId, after, ...filters))
        .orderBy(desc(table.id))
        .limit(take)) as unknown as Row[],
    toDto,
  );
}
