import { sql } from "drizzle-orm";
import { pgArray } from "../lib/sql";
import type { Db } from "../services/db";

/** The SQL of sending transactional emails: the emails table's side of the message log's claims. */

export type ClaimedEmail = {
  id: string;
  month: string;
  provider_id: string | null;
  from_address: string;
  to_addresses: string[];
  cc_addresses: string[];
  bcc_addresses: string[];
  reply_to: string[];
  subject: string;
  html: string | null;
  text: string | null;
  headers: Record<string, string>;
  track_opens: boolean;
  track_clicks: boolean;
};

/**
 * Claims the emails in the message log (queued or retrying → claimed, each once) and marks them
 * `sending`, in one statement; returns what to send.
 */
export async function claimEmails(db: Db, tenantId: string, refs: { email_id: string; month: string }[]): Promise<ClaimedEmail[]> {
  const result = await db.execute<ClaimedEmail>(sql`
    WITH input AS (
      SELECT * FROM unnest(${pgArray(refs.map((r) => r.email_id))}::uuid[], ${pgArray(refs.map((r) => r.month))}::date[]) AS i(id, month)
    ), claimed AS (
      UPDATE messages m SET status = 'claimed', attempts = m.attempts + 1, updated_at = now()
      FROM input i, emails e
      WHERE m.month = i.month AND m.id = i.id AND m.tenant_id = ${tenantId} AND m.status IN ('queued', 'retrying')
        AND e.id = m.id AND e.tenant_id = ${tenantId} AND e.status = 'queued'
      RETURNING m.id, m.month
    ), marked AS (
      UPDATE emails e SET status = 'sending', updated_at = now()
      FROM claimed c WHERE e.id = c.id AND e.tenant_id = ${tenantId}
      RETURNING e.*, c.month AS claimed_month
    )
    SELECT id, to_char(claimed_month, 'YYYY-MM-DD') AS month, provider_id, from_address, to_addresses, cc_addresses,
      bcc_addresses, reply_to, subject, html, text, headers, track_opens, track_clicks
    FROM marked`);
  return result.rows;
}

/** Emails whose claims were given back are queued again (their queue message is retried). */
export async function requeueEmails(db: Db, tenantId: string, ids: string[]): Promise<void> {
  await db.execute(sql`
    UPDATE emails SET status = 'queued', enqueued_at = now(), updated_at = now()
    WHERE tenant_id = ${tenantId} AND id = ANY(${pgArray(ids)}::uuid[]) AND status = 'sending'`);
}

/** Claimed emails none of whose recipients may be mailed are skipped in the message log. */
export async function skipSuppressed(db: Db, month: string, ids: string[]): Promise<void> {
  await db.execute(sql`
    UPDATE messages SET status = 'skipped', error = 'every recipient is suppressed', updated_at = now()
    WHERE month = ${month}::date AND id = ANY(${pgArray(ids)}::uuid[]) AND status = 'claimed'`);
}

/** Writes each email's status and last event as its readers see them. */
export async function setEmailStatuses(db: Db, tenantId: string, final: { id: string; status: string; event: string }[]): Promise<void> {
  if (final.length === 0) return;
  await db.execute(sql`
    UPDATE emails e SET status = f.status, last_event = f.event, updated_at = now()
    FROM unnest(${pgArray(final.map((f) => f.id))}::uuid[], ${pgArray(final.map((f) => f.status))}::text[], ${pgArray(final.map((f) => f.event))}::text[]) AS f(id, status, event)
    WHERE e.tenant_id = ${tenantId} AND e.id = f.id`);
}
