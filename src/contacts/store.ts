import { and, eq, sql } from "drizzle-orm";
import { contacts, type ContactStatus } from "../db/schema";
import { HeraldError } from "../errors";
import { uuidv7 } from "../lib/ids";
import { newestFirst, type PageRequest } from "../lib/keyset";
import { pgErrorCode, UNIQUE_VIOLATION } from "../lib/pg-error";
import { deleteTenantRow, findTenantRow } from "../lib/tenant-rows";
import type { Db } from "../services/db";
import { type ContactRow, toContactDto } from "./schema";

export function noSuchContact(): HeraldError {
  return new HeraldError("not_found", "no such contact");
}

export function findContact(db: Db, tenantId: string, id: string) {
  return findTenantRow(db, contacts, tenantId, id, noSuchContact);
}

export function emailTaken(email: string): HeraldError {
  return new HeraldError("conflict", `a contact with the email ${email} already exists`);
}

/** A page of the tenant's contacts, newest first, optionally only those with this status or address. */
export function listContacts(db: Db, tenantId: string, page: PageRequest, filter: { status?: ContactStatus; email?: string }) {
  const filters = [
    filter.status ? eq(contacts.status, filter.status) : undefined,
    filter.email ? eq(contacts.email, filter.email) : undefined,
  ];
  return newestFirst(db, contacts, tenantId, page, toContactDto, ...filters);
}

export interface NewContact {
  email: string;
  name: string | null;
  attributes: Record<string, unknown>;
  status: ContactStatus;
}

/** Inserts a contact; an address the tenant already has is a conflict. */
export async function createContact(db: Db, tenantId: string, input: NewContact) {
  const [row] = await db
    .insert(contacts)
    .values({ id: uuidv7(), tenantId, ...input })
    .onConflictDoNothing({ target: [contacts.tenantId, contacts.email] })
    .returning();
  if (!row) throw emailTaken(input.email);
  return row;
}

/** Sets the fields given (undefined ones stay); an address another contact has is a conflict. */
export async function updateContact(db: Db, tenantId: string, id: string, changes: Partial<NewContact>) {
  let row: ContactRow | undefined;
  try {
    [row] = await db
      .update(contacts)
      .set({
        ...(changes.email !== undefined && { email: changes.email }),
        ...(changes.name !== undefined && { name: changes.name }),
        ...(changes.attributes !== undefined && { attributes: changes.attributes }),
        ...(changes.status !== undefined && { status: changes.status }),
        updatedAt: sql`now()`,
      })
      .where(and(eq(contacts.tenantId, tenantId), eq(contacts.id, id)))
      .returning();
  } catch (err) {
    if (pgErrorCode(err) === UNIQUE_VIOLATION && changes.email) throw emailTaken(changes.email);
    throw err;
  }
  if (!row) throw noSuchContact();
  return row;
}

/** Deletes the contact (its list memberships go with it) and answers its id. */
export function deleteContact(db: Db, tenantId: string, id: string): Promise<string> {
  return deleteTenantRow(db, contacts, tenantId, id, noSuchContact);
}

/** A row of an import, ready to upsert; null means "leave the stored value alone" (a new contact gets the default). */
export interface ImportedContact {
  email: string;
  name: string | null;
  status: ContactStatus | null;
  attributes: Record<string, unknown> | null;
}

export interface UpsertCounts {
  created: number;
  updated: number;
}

/**
 * Upserts every row in one statement: each column travels as one array parameter and unnest()
 * turns them back into rows, so the statement has a handful of parameters however many rows there are (Postgres allows 65,535).
 * New addresses are inserted; existing ones get only the fields the row gave (COALESCE keeps the
 * rest). The update cannot see this statement's own inserts, so no contact is counted twice.
 * With a list, every imported contact joins it in the same statement.
 */
export async function upsertContacts(db: Db, tenantId: string, rows: ImportedContact[], listId?: string): Promise<UpsertCounts> {
  if (rows.length === 0) return { created: 0, updated: 0 };
  const ids = rows.map(() => uuidv7());
  const emails = rows.map((r) => r.email);
  const names = rows.map((r) => r.name);
  const statuses = rows.map((r) => r.status);
  const attributes = rows.map((r) => (r.attributes === null ? null : JSON.stringify(r.attributes)));
  const joinList = listId
    ? sql`, joined AS (
        INSERT INTO list_members (tenant_id, list_id, contact_id)
        SELECT ${tenantId}::uuid, ${listId}::uuid, id FROM (SELECT id FROM inserted UNION ALL SELECT id FROM updated) AS x
        ON CONFLICT DO NOTHING
      )`
    : sql``;
  const result = await db.execute<{ created: number; updated: number }>(sql`
    WITH input AS (
      SELECT * FROM unnest(
        ${sql.param(ids)}::uuid[], ${sql.param(emails)}::text[], ${sql.param(names)}::text[],
        ${sql.param(statuses)}::text[], ${sql.param(attributes)}::text[]
      ) AS i(id, email, name, status, attributes)
    ),
    inserted AS (
      INSERT INTO contacts (id, tenant_id, email, name, attributes, status)
      SELECT i.id, ${tenantId}::uuid, i.email, i.name, coalesce(i.attributes::jsonb, '{}'::jsonb), coalesce(i.status, 'active')
      FROM input i
      ON CONFLICT (tenant_id, email) DO NOTHING
      RETURNING id
    ),
    updated AS (
      UPDATE contacts c SET
        name = coalesce(i.name, c.name),
        attributes = coalesce(i.attributes::jsonb, c.attributes),
        status = coalesce(i.status, c.status),
        updated_at = now()
      FROM input i
      WHERE c.tenant_id = ${tenantId}::uuid AND c.email = i.email
      RETURNING c.id
    )${joinList}
    SELECT (SELECT count(*) FROM inserted)::int AS created, (SELECT count(*) FROM updated)::int AS updated
  `);
  const counts = result.rows[0]!;
  return { created: Number(counts.created), updated: Number(counts.updated) };
}

/** Fresh planner statistics for the audience tables, after an import big enough to change their plans. */
export function analyzeAudience(db: Db) {
  return db.execute(sql`ANALYZE contacts, list_members`);
}
