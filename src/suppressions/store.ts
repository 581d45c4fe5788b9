import { and, asc, desc, eq, getTableColumns, gt, sql, type SQL } from "drizzle-orm";
import { suppressions, type SuppressionReason } from "../db/schema";
import { HeraldError } from "../errors";
import { pgArray } from "../lib/sql";
import { parseMailbox } from "../providers/address";
import type { Db } from "../services/db";

export interface SuppressionEntry {
  email: string;
  reason: SuppressionReason;
  note?: string | null;
}

export type SuppressionRow = typeof suppressions.$inferSelect;

export function noSuchSuppression(): HeraldError {
  return new HeraldError("not_found", "that address is not suppressed");
}

/** Longest address herald stores (RFC 5321's path limit, as for contacts). */
const MAX_EMAIL = 320;
const MAX_NOTE = 2000;

/** Suppressed addresses are kept as contacts are: trimmed and lower-cased. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** The address of a recipient ("Name <a@b>" or "a@b") as the suppression list keys it. */
export function recipientKey(recipient: string): string {
  return normalizeEmail(parseMailbox(recipient)?.email ?? recipient);
}

/** Which of these recipients (keyed by recipientKey) the tenant has suppressed, in one query. */
export async function suppressedAmong(db: Db, tenantId: string, recipients: string[]): Promise<Set<string>> {
  const keys = [...new Set(recipients.map(recipientKey))];
  if (keys.length === 0) return new Set();
  const found = await db.execute<{ email: string }>(
    sql`SELECT email FROM suppressions WHERE tenant_id = ${tenantId} AND email = ANY(${pgArray(keys)}::text[])`,
  );
  return new Set(found.rows.map((r) => r.email));
}

/** SQL mapping a reason column to the contact status it implies (null for manual). */
const statusFor = (reason: SQL) =>
  sql`CASE ${reason} WHEN 'bounce' THEN 'bounced' WHEN 'complaint' THEN 'complained' WHEN 'unsubscribe' THEN 'unsubscribed' END`;

export interface SuppressResult {
  /** Entries that were not suppressed before. */
  inserted: number;
  /** Active contacts whose status changed to bounced, complained or unsubscribed. */
  contactsUpdated: number;
}

/**
 * Suppresses addresses for a tenant in one statement: new addresses are added (an existing entry
 * keeps its first reason and note), and the tenant's *active* contacts with those addresses become
 * bounced, complained or unsubscribed. Reason manual only suppresses. Addresses are normalized;
 * empty or over-long ones are skipped, and the first entry for a repeated address wins.
 */
export async function suppress(db: Db, tenantId: string, entries: SuppressionEntry[]): Promise<SuppressResult> {
  const seen = new Map<string, SuppressionEntry>();
  for (const entry of entries) {
    const email = normalizeEmail(entry.email);
    if (email === "" || email.length > MAX_EMAIL || seen.has(email)) continue;
    seen.set(email, { email, reason: entry.reason, note: entry.note?.slice(0, MAX_NOTE) ?? null });
  }
  if (seen.size === 0) return { inserted: 0, contactsUpdated: 0 };
  const rows = [...seen.values()];
  const query = sql`
    WITH input AS (
      SELECT * FROM unnest(${sql.param(rows.map((r) => r.email))}::text[], ${sql.param(rows.map((r) => r.reason))}::text[], ${sql.param(rows.map((r) => r.note ?? null))}::text[])
        AS t(email, reason, note)
    ), inserted AS (
      INSERT INTO suppressions (tenant_id, email, reason, note)
      SELECT ${tenantId}::uuid, email, reason, note FROM input
      ON CONFLICT DO NOTHING
      RETURNING email
    ), updated AS (
      UPDATE contacts c SET status = ${statusFor(sql`i.reason`)}, updated_at = now()
      FROM input i
      WHERE c.tenant_id = ${tenantId}::uuid AND c.email = i.email AND c.status = 'active' AND i.reason <> 'manual'
      RETURNING c.id
    )
    SELECT (SELECT count(*) FROM inserted)::int AS inserted, (SELECT count(*) FROM updated)::int AS updated`;
  const result = await db.execute<{ inserted: number; updated: number }>(query);
  const row = result.rows[0]!;
  return { inserted: Number(row.inserted), contactsUpdated: Number(row.updated) };
}

/**
 * Suppresses one address and returns its entry: the new one (created: true), or the one already
 * there (created: false), which keeps its reason and note. Contacts change as with suppress().
 */
/** created_at as epoch milliseconds: raw rows would otherwise bring it back in Postgres's text form. */
const CREATED_MS = sql.raw("(extract(epoch FROM created_at) * 1000)::float8 AS created_ms");

export async function suppressOne(db: Db, tenantId: string, entry: SuppressionEntry): Promise<{ row: SuppressionRow; created: boolean }> {
  const email = normalizeEmail(entry.email);
  const note = entry.note ?? null;
  const query = sql`
    WITH inserted AS (
      INSERT INTO suppressions (tenant_id, email, reason, note)
      VALUES (${tenantId}::uuid, ${email}, ${entry.reason}, ${note})
      ON CONFLICT DO NOTHING
      RETURNING tenant_id, email, reason, note, created_at
    ), updated AS (
      UPDATE contacts SET status = ${statusFor(sql`${entry.reason}::text`)}, updated_at = now()
      WHERE tenant_id = ${tenantId}::uuid AND email = ${email} AND status = 'active' AND ${entry.reason}::text <> 'manual'
      RETURNING id
    )
    SELECT email, reason, note, ${CREATED_MS}, true AS created, (SELECT count(*) FROM updated)::int AS updated FROM inserted
    UNION ALL
    SELECT email, reason, note, ${CREATED_MS}, false, (SELECT count(*) FROM updated)::int FROM suppressions
    WHERE tenant_id = ${tenantId}::uuid AND email = ${email} AND NOT EXISTS (SELECT 1 FROM inserted)`;
  const result = await db.execute<{
    email: string;
    reason: SuppressionReason;
    note: string | null;
    created_ms: number | string;
    created: boolean;
  }>(query);
  const found = result.rows[0];
  if (found) {
    return {
      row: { tenantId, email: found.email, reason: found.reason, note: found.note, createdAt: new Date(Number(found.created_ms)) },
      created: found.created === true,
    };
  }
  // Another request inserted it after this statement's snapshot was taken: it is there now.
  const existing = await findSuppression(db, tenantId, email);
  if (!existing) throw new Error("suppression vanished while being created");
  return { row: existing, created: false };
}

export async function findSuppression(db: Db, tenantId: string, email: string): Promise<SuppressionRow | undefined> {
  const [row] = await db
    .select()
    .from(suppressions)
    .where(and(eq(suppressions.tenantId, tenantId), eq(suppressions.email, normalizeEmail(email))))
    .limit(1);
  return row;
}

/**
 * Removes an address from the tenant's suppression list; true when it was there. Contacts keep
 * their status: an unsubscribed or bounced contact is made active again only by changing it.
 */
export async function unsuppress(db: Db, tenantId: string, email: string): Promise<boolean> {
  const deleted = await db
    .delete(suppressions)
    .where(and(eq(suppressions.tenantId, tenantId), eq(suppressions.email, normalizeEmail(email))))
    .returning({ email: suppressions.email });
  return deleted.length > 0;
}

/** created_at to the microsecond, so a cursor names the exact row it stopped at. */
const createdAtText = sql<string>`to_char(${suppressions.createdAt} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

export interface SuppressionPageQuery {
  order: "created_at" | "email";
  reason?: SuppressionReason;
  /** Only addresses starting with this text. */
  email?: string;
  /** Where the previous page ended: its last email, and for created_at order its created_at (`at`). */
  after?: { email: string; at?: string };
  /** Rows to fetch (a page's limit + 1). */
  take: number;
}

/**
 * The tenant's suppressions in `order` (newest first, or alphabetical), after the cursor; each row
 * carries `at`, its created_at to the microsecond, for the next cursor.
 */
export function suppressionRows(db: Db, tenantId: string, query: SuppressionPageQuery) {
  const { order, reason, email, after } = query;
  const filters: SQL[] = [eq(suppressions.tenantId, tenantId)];
  if (reason) filters.push(eq(suppressions.reason, reason));
  if (email) filters.push(sql`starts_with(${suppressions.email}, ${email})`);
  if (after) {
    filters.push(
      order === "email"
        ? gt(suppressions.email, after.email)
        : sql`(${suppressions.createdAt}, ${suppressions.email}) < (${after.at}::timestamptz, ${after.email})`,
    );
  }
  return db
    .select({ ...getTableColumns(suppressions), at: createdAtText })
    .from(suppressions)
    .where(and(...filters))
    .orderBy(...(order === "email" ? [asc(suppressions.email)] : [desc(suppressions.createdAt), desc(suppressions.email)]))
    .limit(query.take);
}
