import { sql } from "drizzle-orm";
import { pgArray } from "../../lib/sql";
import { clipCodePoints } from "../../lib/text";
import type { Db } from "../../services/db";

/**
 * The one owner of SQL that changes message rows, the claims of exactly-once sending. A row's life:
 *
 *   (none) ─claim→ claimed ─markSending→ sending ─record→ sent | failed | unknown | replaying
 *                    │                       │                                        │
 *                    └─release→ retrying ←───┘ (only rows known not to have been sent) └─replay→ …
 *
 * `claimed` means reserved and never handed to a provider, so it can always be given back;
 * `sending` means a provider call may have carried it, so it is never sent again automatically.
 */

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
 * One round trip: reads the campaign's state and, only if it is sending, claims each recipient.
 * The unique (month, campaign_id, contact_id) index makes a recipient claimable once; a `retrying`
 * row is taken over, and so is a `claimed` row held by the same queue message (each recipient's
 * token is its message's id: a redelivery after a claim whose answer was lost). Recipients unsubscribed or suppressed since
 * fan-out are recorded as skipped. A claim also ends the campaign's wait for a usable provider.
 */
export async function claimRecipients(
  db: Db,
  p: {
    tenantId: string;
    campaignId: string;
    month: string;
    tokens: string[];
    recipients: { c: string; e: string }[];
    ids: string[];
    providerIds: string[];
  },
): Promise<ClaimResult> {
  const result = await db.execute<{
    state: string | null;
    version: number | null;
    claimed: { id: string; c: string; s: "claimed" | "skipped" }[];
  }>(sql`
    WITH camp AS (
      SELECT state, (template_snapshot->>'version')::int AS version, blocked_since IS NOT NULL AS blocked
      FROM campaigns WHERE tenant_id = ${p.tenantId} AND id = ${p.campaignId}
    ), unblock AS (
      UPDATE campaigns SET blocked_since = NULL
      WHERE tenant_id = ${p.tenantId} AND id = ${p.campaignId} AND (SELECT blocked FROM camp)
    ), input AS (
      -- A contact in two messages of one batch is claimed once.
      SELECT DISTINCT ON (i.contact_id) i.id, i.contact_id, i.email, i.provider_id, i.token,
        (c.status = 'active' AND NOT EXISTS (
          SELECT 1 FROM suppressions s WHERE s.tenant_id = ${p.tenantId} AND s.email = i.email)) AS mailable
      FROM unnest(${pgArray(p.ids)}::uuid[], ${pgArray(p.recipients.map((r) => r.c))}::uuid[], ${pgArray(p.recipients.map((r) => r.e))}::text[],
                  ${pgArray(p.providerIds)}::uuid[], ${pgArray(p.tokens)}::text[])
        AS i(id, contact_id, email, provider_id, token)
      LEFT JOIN contacts c ON c.tenant_id = ${p.tenantId} AND c.id = i.contact_id
      ORDER BY i.contact_id
    ), claimed AS (
      INSERT INTO messages AS m (month, id, tenant_id, campaign_id, contact_id, email, status, provider_id, error, claim_token)
      SELECT ${p.month}::date, i.id, ${p.tenantId}, ${p.campaignId}, i.contact_id, i.email,
        CASE WHEN i.mailable THEN 'claimed' ELSE 'skipped' END, i.provider_id,
        CASE WHEN i.mailable THEN NULL ELSE 'unsubscribed or suppressed before sending' END, i.token
      FROM input i
      WHERE (SELECT state FROM camp) = 'sending'
      ON CONFLICT (month, campaign_id, contact_id) DO UPDATE
        SET status = EXCLUDED.status, error = EXCLUDED.error, provider_id = EXCLUDED.provider_id,
            claim_token = EXCLUDED.claim_token, attempts = m.attempts + 1, updated_at = now()
        WHERE m.status = 'retrying' OR (m.status = 'claimed' AND m.claim_token = EXCLUDED.claim_token)
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

/**
 * Records that these claims are about to be handed to a provider: from here on they are never given
 * back blindly. Only claims still held by the given queue messages are marked, and they are stamped
 * with this attempt's `nonce`, so an attempt can later give back exactly what it marked itself and
 * nothing a concurrent delivery of the same message handed over. Returns the ids really marked.
 */
export async function markSending(
  db: Db,
  p: { tenantId: string; month: string; ids: string[]; owners?: string[]; nonce: string },
): Promise<Set<string>> {
  if (p.ids.length === 0) return new Set();
  const result = await db.execute<{ id: string }>(sql`
    UPDATE messages SET status = 'sending', claim_token = ${p.nonce}, updated_at = now()
    WHERE month = ${p.month}::date AND tenant_id = ${p.tenantId} AND id = ANY(${pgArray(p.ids)}::uuid[])
      AND status = 'claimed' AND ${ownedBy(p.owners)}
    RETURNING id`);
  return new Set(result.rows.map((r) => r.id));
}

/**
 * Gives back claims an attempt made and never handed to a provider: rows still `claimed` by its
 * messages, and rows it marked `sending` itself (its `nonce`) before it failed without calling one.
 */
export async function releaseUnsent(
  db: Db,
  p: { tenantId: string; month: string; ids: string[]; owners?: string[]; nonce: string },
): Promise<void> {
  if (p.ids.length === 0) return;
  await db.execute(sql`
    UPDATE messages SET status = 'retrying', updated_at = now()
    WHERE month = ${p.month}::date AND tenant_id = ${p.tenantId} AND id = ANY(${pgArray(p.ids)}::uuid[])
      AND ((status = 'claimed' AND ${ownedBy(p.owners)}) OR (status = 'sending' AND claim_token = ${p.nonce}))`);
}

/** Campaign claims belong to queue messages; a transactional email's claim is its own (owners undefined). */
function ownedBy(owners: string[] | undefined) {
  return owners ? sql`claim_token = ANY(${pgArray(owners)}::text[])` : sql`true`;
}

export type OutcomeStatus = "sent" | "failed" | "unknown" | "replaying";

export interface Outcome {
  id: string;
  status: OutcomeStatus;
  providerMessageId?: string;
  error?: string;
}

export type RecordedCounts = Record<OutcomeStatus, number>;

/**
 * One round trip: writes a batch's per-recipient results onto rows that were being sent (or
 * replayed). Returns how many rows really changed, by status: a row the sweeper settled meanwhile is
 * not counted twice.
 */
export async function recordOutcomes(db: Db, tenantId: string, month: string, outcomes: Outcome[]): Promise<RecordedCounts> {
  const none = { sent: 0, failed: 0, unknown: 0, replaying: 0 };
  if (outcomes.length === 0) return none;
  const result = await db.execute<RecordedCounts>(sql`
    WITH done AS (
    UPDATE messages m SET
      status = r.status, provider_message_id = r.pmid, error = r.error, updated_at = now(),
      sent_at = CASE WHEN r.status = 'sent' THEN now() ELSE NULL END
    FROM unnest(${pgArray(outcomes.map((o) => o.id))}::uuid[], ${pgArray(outcomes.map((o) => o.status))}::text[],
                ${pgArray(outcomes.map((o) => o.providerMessageId ?? null))}::text[], ${pgArray(outcomes.map((o) => (o.error ? clipCodePoints(o.error, 500) : null)))}::text[])
      AS r(id, status, pmid, error)
    WHERE m.month = ${month}::date AND m.tenant_id = ${tenantId} AND m.id = r.id AND m.status IN ('sending', 'replaying')
    RETURNING m.status)
    SELECT count(*) FILTER (WHERE status = 'sent')::int AS sent, count(*) FILTER (WHERE status = 'failed')::int AS failed,
      count(*) FILTER (WHERE status = 'unknown')::int AS unknown, count(*) FILTER (WHERE status = 'replaying')::int AS replaying
    FROM done`);
  return result.rows[0] ?? none;
}

/**
 * Gives claims back so a retry can claim them again. Only for rows the caller knows did not reach a
 * provider: never sent, or refused as a whole by an answer that means "not accepted".
 */
export async function releaseClaims(db: Db, tenantId: string, month: string, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await db.execute(sql`
    UPDATE messages SET status = 'retrying', updated_at = now()
    WHERE month = ${month}::date AND tenant_id = ${tenantId} AND id = ANY(${pgArray(ids)}::uuid[]) AND status IN ('claimed', 'sending')`);
}

export interface SweptCampaign extends Record<string, unknown> {
  tenant_id: string;
  campaign_id: string;
  state: string;
  released: number;
  unknown: number;
}

/**
 * Settles claims of running (or just ended) campaigns whose sender stopped before recording: a
 * `claimed` row never reached a provider and goes back to `retrying`; a `sending` row may have, so
 * it becomes `unknown` and is never re-sent automatically. A `retrying` row whose queue message is
 * surely gone (lost, or dead-lettered before the claim came back) is touched and counted with the
 * released, so the caller queues it again, at most once per period.
 */
/**
 * A released row waits for its message's retry: at most the 5-minute backoff, or a provider's
 * Retry-After (capped at an hour). Only after longer than both is its message taken for lost.
 */
function orphanSeconds(staleSeconds: number): number {
  return Math.max(staleSeconds, 3900);
}

export async function sweepStaleClaims(db: Db, staleSeconds: number): Promise<SweptCampaign[]> {
  const result = await db.execute<SweptCampaign>(sql`
    WITH swept AS (
      UPDATE messages m SET updated_at = now(),
        status = CASE m.status WHEN 'sending' THEN 'unknown' ELSE 'retrying' END,
        error = CASE m.status WHEN 'sending'
          THEN 'outcome_unknown: the sender stopped after handing the message to the provider; not re-sent to avoid a duplicate'
          ELSE m.error END
      FROM campaigns c
      WHERE c.state IN ('sending', 'paused', 'cancelled', 'failed', 'completed') AND c.message_month IS NOT NULL
        AND (c.completed_at IS NULL OR c.completed_at > now() - interval '2 days')
        AND m.month = c.message_month AND m.tenant_id = c.tenant_id AND m.campaign_id = c.id
        AND m.status IN ('claimed', 'sending', 'retrying')
        AND m.updated_at < now() - make_interval(secs => CASE WHEN m.status = 'retrying' THEN ${orphanSeconds(staleSeconds)}::float8 ELSE ${staleSeconds}::float8 END)
      RETURNING m.tenant_id, m.campaign_id, m.status, c.state
    )
    SELECT tenant_id, campaign_id, min(state) AS state, count(*) FILTER (WHERE status = 'retrying')::int AS released,
      count(*) FILTER (WHERE status = 'unknown')::int AS unknown
    FROM swept WHERE campaign_id IS NOT NULL GROUP BY 1, 2`);
  return result.rows;
}

/**
 * retry-failed: marks a completed or failed campaign's failed recipients (and its unknown ones, when
 * the user said a duplicate is acceptable) `retrying`. Returns how many of each.
 */
export async function markForRetry(
  db: Db,
  tenantId: string,
  campaignId: string,
  includeUnknown: boolean,
  from: readonly string[],
): Promise<{ failed: number; unknown: number }> {
  const statuses = includeUnknown ? ["failed", "unknown"] : ["failed"];
  const marked = await db.execute<{ failed: number; unknown: number }>(sql`
    WITH c AS (
      SELECT message_month FROM campaigns
      WHERE tenant_id = ${tenantId} AND id = ${campaignId} AND state = ANY(${pgArray(from)}::text[])
    ), m AS (
      UPDATE messages x SET status = 'retrying', updated_at = now()
      FROM (SELECT id, status AS was FROM messages
            WHERE month = (SELECT message_month FROM c) AND tenant_id = ${tenantId} AND campaign_id = ${campaignId}
              AND status = ANY(${pgArray(statuses)}::text[])) old
      WHERE x.month = (SELECT message_month FROM c) AND x.id = old.id
      RETURNING old.was
    )
    SELECT count(*) FILTER (WHERE was = 'failed')::int AS failed, count(*) FILTER (WHERE was = 'unknown')::int AS unknown FROM m`);
  return marked.rows[0] ?? { failed: 0, unknown: 0 };
}

/** Undoes markForRetry when nothing could be queued to send them. */
export async function unmarkRetry(db: Db, tenantId: string, campaignId: string): Promise<void> {
  await db.execute(sql`
    UPDATE messages SET status = CASE WHEN error LIKE 'outcome_unknown%' THEN 'unknown' ELSE 'failed' END
    WHERE month = (SELECT message_month FROM campaigns WHERE tenant_id = ${tenantId} AND id = ${campaignId})
      AND tenant_id = ${tenantId} AND campaign_id = ${campaignId} AND status = 'retrying'`);
}
