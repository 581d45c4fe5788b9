import { sql } from "drizzle-orm";
import type { Db } from "../../services/db";
import type { CampaignState } from "../machine";

export interface CampaignCounts {
  total: number;
  sent: number;
  failed: number;
  /** Skipped rows plus the pages' vanished members. */
  skipped: number;
  unknown: number;
  vanished: number;
}

export interface SettledCampaign {
  state: CampaignState;
  counts: CampaignCounts;
  /** Recipients still claimed, being sent, waiting for a replay or queued again. */
  open: number;
}

/**
 * Postgres is the truth for counts: one statement recounts a campaign's message rows by status
 * (and its pages' vanished members) into the campaign row, and completes a sending campaign when
 * every recipient of its total is terminal and no page waits to be expanded. Reports that arrive
 * twice or late only move the live view, never this. `failed` when nothing was sent and something failed.
 */
export async function recountCampaign(db: Db, tenantId: string, campaignId: string): Promise<SettledCampaign | undefined> {
  const result = await db.execute<{
    state: CampaignState; total: number; sent: number; failed: number; skipped: number; unknown: number; vanished: number; open: number;
  }>(sql`
    WITH c AS (
      SELECT message_month, total FROM campaigns WHERE tenant_id = ${tenantId} AND id = ${campaignId}
    ), m AS (
      SELECT count(*) FILTER (WHERE status = 'sent')::int AS sent,
        count(*) FILTER (WHERE status = 'failed')::int AS failed,
        count(*) FILTER (WHERE status = 'skipped')::int AS skipped,
        count(*) FILTER (WHERE status = 'unknown')::int AS unknown,
        count(*) FILTER (WHERE status IN ('queued', 'claimed', 'sending', 'replaying', 'retrying'))::int AS open
      FROM messages
      WHERE month = (SELECT message_month FROM c) AND tenant_id = ${tenantId} AND campaign_id = ${campaignId}
    ), p AS (
      SELECT coalesce(sum(vanished), 0)::int AS vanished, count(*) FILTER (WHERE state = 'planned')::int AS unexpanded
      FROM campaign_pages WHERE tenant_id = ${tenantId} AND campaign_id = ${campaignId}
    ), f AS (
      SELECT m.*, p.vanished,
        (m.open = 0 AND p.unexpanded = 0 AND m.sent + m.failed + m.skipped + m.unknown + p.vanished >= (SELECT total FROM c)) AS finished
      FROM m, p
    )
    UPDATE campaigns SET
      sent = f.sent, failed = f.failed, skipped = f.skipped + f.vanished, unknown = f.unknown,
      -- A recount is not progress: updated_at moves only with live reports (or completion), so the
      -- cron can still tell a campaign that stopped moving.
      updated_at = CASE WHEN f.finished AND campaigns.state = 'sending' THEN now() ELSE campaigns.updated_at END,
      state = CASE WHEN f.finished AND campaigns.state = 'sending'
        THEN (CASE WHEN f.sent = 0 AND f.failed > 0 THEN 'failed' ELSE 'completed' END) ELSE campaigns.state END,
      completed_at = CASE WHEN f.finished AND campaigns.state = 'sending' THEN now() ELSE campaigns.completed_at END
    FROM f
    WHERE campaigns.tenant_id = ${tenantId} AND campaigns.id = ${campaignId}
    RETURNING campaigns.state, campaigns.total, f.sent, f.failed, f.skipped + f.vanished AS skipped, f.unknown, f.vanished, f.open`);
  const row = result.rows[0];
  if (!row) return undefined;
  return {
    state: row.state,
    counts: { total: row.total, sent: row.sent, failed: row.failed, skipped: row.skipped - row.vanished, unknown: row.unknown, vanished: row.vanished },
    open: row.open,
  };
}

/** The live view's counters, written to a sending campaign's row for readers of the API between recounts. */
export async function writeLiveCountsRow(db: Db, p: { tenantId: string; campaignId: string; total: number; sent: number; failed: number; skipped: number; unknown: number }) {
  await db.execute(sql`
    UPDATE campaigns SET total = ${p.total}, sent = ${p.sent}, failed = ${p.failed}, skipped = ${p.skipped}, unknown = ${p.unknown}, updated_at = now()
    WHERE tenant_id = ${p.tenantId} AND id = ${p.campaignId} AND state = 'sending'`);
}

/** Sending campaigns whose progress has not moved for `minutes`: the cron recounts them. */
export async function stalledCampaigns(db: Db, minutes: number, limit: number): Promise<{ id: string; tenant_id: string }[]> {
  const result = await db.execute<{ id: string; tenant_id: string }>(sql`
    SELECT id, tenant_id FROM campaigns
    WHERE state = 'sending' AND updated_at < now() - make_interval(mins => ${minutes})
    ORDER BY updated_at LIMIT ${limit}`);
  return result.rows;
}
