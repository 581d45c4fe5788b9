import { sql } from "drizzle-orm";
import { monthOf, monthOfUuidv7 } from "../lib/ids";
import { pgArray } from "../lib/sql";
import type { Db } from "../services/db";
import type { EventInput, StoredEvent } from "./message";
import type { PendingEvent } from "./tracking-cap";

// The events table's SQL, and what storing an event reads from or writes to the message log and the
// emails table. The queue consumer (queues/events.ts) decides what to store; this is how.

/** Inserts a tenant's prepared events in one statement; returns those that were new (a known id is skipped). */
export async function insertEvents(db: Db, tenantId: string, rows: PendingEvent[]): Promise<StoredEvent[]> {
  const inserted = await db.execute<{
    id: string;
    type: EventInput["type"];
    message_id: string | null;
    campaign_id: string | null;
    email: string | null;
    url: string | null;
    data: Record<string, unknown>;
    occurred_at: string;
  }>(sql`
    INSERT INTO events (month, id, tenant_id, type, message_id, campaign_id, email, source, provider_event_id, url, data, occurred_at)
    SELECT e.month, e.id, ${tenantId}, e.type, e.message_id, e.campaign_id, e.email, e.source, e.provider_event_id, e.url, e.data, e.occurred_at
    FROM unnest(
      ${pgArray(rows.map((r) => r.month))}::date[], ${pgArray(rows.map((r) => r.id))}::uuid[], ${pgArray(rows.map((r) => r.input.type))}::text[],
      ${pgArray(rows.map((r) => r.input.message_id ?? null))}::uuid[], ${pgArray(rows.map((r) => r.input.campaign_id ?? null))}::uuid[],
      ${pgArray(rows.map((r) => r.input.email?.toLowerCase() ?? null))}::text[], ${pgArray(rows.map((r) => r.input.source))}::text[],
      ${pgArray(rows.map((r) => r.input.provider_event_id ?? null))}::text[], ${pgArray(rows.map((r) => r.input.url ?? null))}::text[],
      ${pgArray(rows.map((r) => JSON.stringify({ ...r.input.data, ...(r.input.bounce_type ? { bounce_type: r.input.bounce_type } : {}) })))}::jsonb[],
      ${pgArray(rows.map((r) => r.input.occurred_at))}::timestamptz[]
    ) AS e(month, id, type, message_id, campaign_id, email, source, provider_event_id, url, data, occurred_at)
    ON CONFLICT (month, id) DO NOTHING
    RETURNING id, type, message_id, campaign_id, email, url, data, occurred_at`);
  return inserted.rows.map((r) => ({
    id: r.id,
    tenantId,
    type: r.type,
    occurredAt: new Date(r.occurred_at),
    messageId: r.message_id,
    campaignId: r.campaign_id,
    email: r.email,
    url: r.url,
    data: r.data,
  }));
}

/** Sets each transactional email's last_event (ids of campaign messages match no email row). */
export async function setLastEvents(db: Db, tenantId: string, updates: StoredEvent[]): Promise<void> {
  await db.execute(sql`
    UPDATE emails e SET last_event = u.type, updated_at = now()
    FROM unnest(${pgArray(updates.map((u) => u.messageId!))}::uuid[], ${pgArray(updates.map((u) => u.type))}::text[]) AS u(id, type)
    WHERE e.tenant_id = ${tenantId} AND e.id = u.id`);
}

/**
 * The campaign and address of messages in the log, by id. A message lives in its campaign's launch
 * month, or for transactional mail in its id's month, so two partitions at most are read.
 */
export async function messageLogEntries(
  db: Db,
  tenantId: string,
  ids: string[],
): Promise<Map<string, { id: string; campaign_id: string | null; email: string }>> {
  const months = [...new Set(ids.flatMap((id) => [monthOfUuidv7(id), monthOf(Date.parse(monthOfUuidv7(id)), 1)]))];
  const found = await db.execute<{ id: string; campaign_id: string | null; email: string }>(sql`
    SELECT id, campaign_id, email FROM messages
    WHERE tenant_id = ${tenantId} AND month = ANY(${pgArray(months)}::date[]) AND id = ANY(${pgArray(ids)}::uuid[])`);
  return new Map(found.rows.map((m) => [m.id, m]));
}
