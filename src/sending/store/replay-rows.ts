import { sql } from "drizzle-orm";
import { uuidv7 } from "../../lib/ids";
import { pgArray } from "../../lib/sql";
import type { Db } from "../../services/db";
import type { PendingReplay } from "../send-all";

/** A stored replay, due for another try. */
export interface ReplayRow extends Record<string, unknown> {
  id: string;
  tenant_id: string;
  provider_id: string;
  campaign_id: string | null;
  month: string;
  message_ids: string[];
  idempotency_key: string;
  body: string;
  attempts: number;
}

/**
 * Resend keeps an idempotency key 24 hours; a replay stops a safe margin before that, after which
 * the same key might be forgotten and a replay could send twice.
 */
const REPLAY_WINDOW_HOURS = 23;

/** Keeps the exact request of each ambiguous batch, with its key and members, for replaying. */
export async function storeReplays(
  db: Db,
  p: { tenantId: string; campaignId: string | null; providerId: string; month: string; replays: PendingReplay[] },
): Promise<void> {
  if (p.replays.length === 0) return;
  await db.execute(sql`
    INSERT INTO provider_replays (id, tenant_id, provider_id, campaign_id, month, message_ids, idempotency_key, body, expires_at)
    SELECT r.id, ${p.tenantId}, ${p.providerId}, ${p.campaignId}, ${p.month}::date, string_to_array(r.ids, ',')::uuid[], r.key, r.body,
      now() + make_interval(hours => ${REPLAY_WINDOW_HOURS})
    FROM unnest(${pgArray(p.replays.map(() => uuidv7()))}::uuid[], ${pgArray(p.replays.map((r) => r.ids.join(",")))}::text[],
                ${pgArray(p.replays.map((r) => r.request.key))}::text[], ${pgArray(p.replays.map((r) => r.request.body))}::text[]) AS r(id, ids, key, body)`);
}

/**
 * Replays still in their window, the least tried first (so one that stays ambiguous does not keep
 * newer ones waiting). Overlapping ticks may take the same replay; its idempotency key makes that harmless.
 */
export async function dueReplays(db: Db, limit: number): Promise<ReplayRow[]> {
  const result = await db.execute<ReplayRow>(sql`
    UPDATE provider_replays SET attempts = attempts + 1
    WHERE (tenant_id, id) IN (
      SELECT tenant_id, id FROM provider_replays WHERE expires_at > now() ORDER BY attempts, created_at LIMIT ${limit} FOR UPDATE SKIP LOCKED)
    RETURNING id, tenant_id, provider_id, campaign_id, to_char(month, 'YYYY-MM-DD') AS month, message_ids, idempotency_key, body, attempts`);
  return result.rows;
}

export async function deleteReplay(db: Db, tenantId: string, id: string): Promise<void> {
  await db.execute(sql`DELETE FROM provider_replays WHERE tenant_id = ${tenantId} AND id = ${id}`);
}

/**
 * Replays past their window can no longer be sent safely: their recipients become `unknown`.
 * Returns the affected campaigns and counts, for the live view.
 */
export async function expireReplays(db: Db): Promise<{ tenant_id: string; campaign_id: string | null; unknown: number; ids: string[] }[]> {
  const result = await db.execute<{ tenant_id: string; campaign_id: string | null; unknown: number; ids: string[] }>(sql`
    WITH gone AS (
      DELETE FROM provider_replays WHERE expires_at <= now() RETURNING tenant_id, campaign_id, month, message_ids
    ), marked AS (
      UPDATE messages m SET status = 'unknown', updated_at = now(),
        error = 'outcome_unknown: the ambiguous batch could not be replayed within the provider''s idempotency window'
      FROM gone g WHERE m.month = g.month AND m.tenant_id = g.tenant_id AND m.id = ANY(g.message_ids) AND m.status = 'replaying'
      RETURNING m.tenant_id, m.campaign_id, m.id
    )
    SELECT tenant_id, campaign_id, count(*)::int AS unknown, array_agg(id) AS ids FROM marked GROUP BY 1, 2`);
  return result.rows;
}
