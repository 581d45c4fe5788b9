import { sql } from "drizzle-orm";
import { uuidv7 } from "../../../lib/ids";
import type { Db } from "../../../services/db";
import type { ValidRow } from "./import-rows";

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
export async function upsertContacts(db: Db, tenantId: string, rows: ValidRow[], listId?: string): Promise<UpsertCounts> {
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
