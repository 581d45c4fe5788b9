import { sql } from "drizzle-orm";
import { pgArray } from "../lib/sql";
import type { Db } from "../services/db";
import type { Recipient } from "./messages";

export interface Claimed {
  /** The message row id, which is also the id the provider sees. */
  id: string;
  contactId: string;
  /** claimed: ours to send now; skipped: the contact stopped being mailable since fan-out. */
  status: "claimed" | "skipped";
}

export interface ClaimResult {
  state: string | null;
  templateVersion: number | null;
  claimed: Claimed[];
}

/**
 * One round trip: reads the campaign's state and, only if it is sending, claims each recipient in
 * the message log. The unique (month, campaign_id, contact_id) index makes a recipient claimable
 * once; a row marked `retrying` by retry-failed (or by a released batch) is taken over. Recipients
 * who unsubscribed or were suppressed since fan-out are recorded as skipped instead.
 */
export async function claimRecipients(
  db: Db,
  p: { tenantId: string; campaignId: string; month: string; recipients: Recipient[]; ids: string[]; providerIds: string[] },
): Promise<ClaimResult> {
  const result = await db.execute<{ state: string | null; version: number | null; claimed: { id: string; c: string; s: "claimed" | "skipped" }[] }>(sql`
    WITH camp AS (
      SELECT state, (template_snapshot->>'version')::int AS version
      FROM campaigns WHERE tenant_id = ${p.tenantId} AND id = ${p.campaignId}
    ), input AS (
      -- A contact in two messages of one batch is claimed once.
      SELECT DISTINCT ON (i.contact_id) i.id, i.contact_id, i.email, i.provider_id,
        (c.status = 'active' AND NOT EXISTS (
          SELECT 1 FROM suppressions s WHERE s.tenant_id = ${p.tenantId} AND s.email = i.email)) AS mailable
      FROM unnest(${pgArray(p.ids)}::uuid[], ${pgArray(p.recipients.map((r) => r.c))}::uuid[], ${pgArray(p.recipients.map((r) => r.e))}::text[], ${pgArray(p.providerIds)}::uuid[])
        AS i(id, contact_id, email, provider_id)
      LEFT JOIN contacts c ON c.tenant_id = ${p.tenantId} AND c.id = i.contact_id
      ORDER BY i.contact_id
    ), claimed AS (
      INSERT INTO messages AS m (month, id, tenant_id, campaign_id, contact_id, email, status, provider_id, error)
      SELECT ${p.month}::date, i.id, ${p.tenantId}, ${p.campaignId}, i.contact_id, i.email,
        CASE WHEN i.mailable THEN 'claimed' ELSE 'skipped' END, i.provider_id,
        CASE WHEN i.mailable THEN NULL ELSE 'unsubscribed or suppressed before sending' END
      FROM input i
      WHERE (SELECT state FROM camp) = 'sending'
      ON CONFLICT (month, campaign_id, contact_id) DO UPDATE
        SET status = EXCLUDED.status, error = EXCLUDED.error, provider_id = EXCLUDED.provider_id,
            attempts = m.attempts + 1, updated_at = now()
        WHERE m.status = 'retrying'
      RETURNING m.id, m.contact_id, m.status
    )
    SELECT (SELECT state FROM camp) AS state, (SELECT version FROM camp) AS version,
      coalesce((SELECT json_agg(json_build_object('id', id, 'c', contact_id, 's', status)) FROM claimed), '[]'::json) AS claimed`);
  const row = result.rows[0];
  return {
    state: row?.state ?? null,
    templateVersion: row?.version ?? null,
    claimed: (row?.claimed ?? []).map((x) => ({ id: x.id, contactId: x.c, status: x.s })),
  };
}

export interface Outcome {
  id: string;
  status: "sent" | "failed";
  providerMessageId?: string;
  error?: string;
}

/**
 * One round trip: writes a batch's per-recipient results. Returns how many rows really changed, by
 * status: a row the sweeper settled meanwhile is not counted twice.
 */
export async function recordOutcomes(db: Db, month: string, outcomes: Outcome[]): Promise<{ sent: number; failed: number }> {
  if (outcomes.length === 0) return { sent: 0, failed: 0 };
  const result = await db.execute<{ sent: number; failed: number }>(sql`
    WITH done AS (
    UPDATE messages m SET
      status = r.status, provider_message_id = r.pmid, error = r.error, updated_at = now(),
      sent_at = CASE WHEN r.status = 'sent' THEN now() ELSE NULL END
    FROM unnest(${pgArray(outcomes.map((o) => o.id))}::uuid[], ${pgArray(outcomes.map((o) => o.status))}::text[],
                ${pgArray(outcomes.map((o) => o.providerMessageId ?? null))}::text[], ${pgArray(outcomes.map((o) => (o.error ? o.error.slice(0, 500) : null)))}::text[])
      AS r(id, status, pmid, error)
    WHERE m.month = ${month}::date AND m.id = r.id AND m.status = 'claimed'
    RETURNING m.status)
    SELECT count(*) FILTER (WHERE status = 'sent')::int AS sent, count(*) FILTER (WHERE status = 'failed')::int AS failed FROM done`);
  return result.rows[0] ?? { sent: 0, failed: 0 };
}

/** Gives claims back after a transient failure, so the retried message can claim them again. */
export async function releaseClaims(db: Db, month: string, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await db.execute(sql`
    UPDATE messages SET status = 'retrying', updated_at = now()
    WHERE month = ${month}::date AND id = ANY(${pgArray(ids)}::uuid[]) AND status = 'claimed'`);
}
