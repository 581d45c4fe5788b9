import { sql } from "drizzle-orm";
import { pgArray } from "../../lib/sql";
import type { Db } from "../../services/db";
import type { CampaignState } from "../machine";

export interface CampaignCounts {
  total: number;
  sent: number;
  failed: number;
  /** Skipped message rows (unsubscribed, suppressed, deleted before their claim). */
  skipped: number;
  unknown: number;
  /** Audience members deleted between the plan and their page: never sent, never in the log. */
  vanished: number;
}

export interface SettledCampaign {
  state: CampaignState;
  counts: CampaignCounts;
  /** Recipients still claimed, being sent, waiting for a replay or queued again. */
  open: number;
}

/**
 * Postgres is the truth for counts: one statement recounts a campaign's message rows by status into
 * the campaign row, and completes a sending campaign when nothing is open (claimed, being sent,
 * waiting for a replay or queued again), no page waits to be expanded, and no member of its audience
 * as of launch is left without a message row. That last check is exact (an anti-join, run only when
 * the cheap conditions hold), so neither a report that arrived twice nor a page's estimate of its
 * deleted members can complete a campaign early, and a member deleted after its page was expanded
 * cannot hold it open. Members of the launch-time count that no longer exist are counted as
 * skipped (`vanished`). `failed` when nothing was sent and something failed.
 * `touch` marks the campaign as looked at (the cron's repair), so it takes its turn behind others.
 */
export async function recountCampaign(db: Db, tenantId: string, campaignId: string, touch = false): Promise<SettledCampaign | undefined> {
  // The month and lists as constants, so the planner prunes to one partition and walks the indexes.
  const facts = await db.execute<{ month: string | null; list_ids: string[]; started_at: string | null }>(sql`
    SELECT to_char(message_month, 'YYYY-MM-DD') AS month, list_ids, started_at::text AS started_at
    FROM campaigns WHERE tenant_id = ${tenantId} AND id = ${campaignId}`);
  const f0 = facts.rows[0];
  if (!f0) return undefined;
  const month = f0.month ?? "1970-01-01";
  const unhandled = f0.started_at
    ? sql`EXISTS (
        SELECT 1 FROM list_members lm
        WHERE lm.tenant_id = ${tenantId} AND lm.list_id = ANY(${pgArray(f0.list_ids)}::uuid[]) AND lm.created_at <= ${f0.started_at}::timestamptz
          AND NOT EXISTS (SELECT 1 FROM messages x WHERE x.month = ${month}::date AND x.campaign_id = ${campaignId} AND x.contact_id = lm.contact_id))`
    : sql`true`;
  type Row = CampaignCounts & { state: CampaignState; open: number } & Record<string, unknown>;
  // Without statistics (a campaign's rows are hours old at most) the planner takes the message
  // partition for a handful of rows and probes it once per audience member without the contact id:
  // quadratic. A hash or merge anti-join is linear whatever the statistics say.
  const result = await db.transaction(async (tx) => {
    await tx.execute(sql`SET LOCAL enable_nestloop = off`);
    return tx.execute<Row>(sql`
    WITH m AS (
      SELECT count(*) FILTER (WHERE status = 'sent')::int AS sent,
        count(*) FILTER (WHERE status = 'failed')::int AS failed,
        count(*) FILTER (WHERE status = 'skipped')::int AS skipped,
        count(*) FILTER (WHERE status = 'unknown')::int AS unknown,
        count(*) FILTER (WHERE status IN ('queued', 'claimed', 'sending', 'replaying', 'retrying'))::int AS open
      FROM messages
      WHERE month = ${month}::date AND tenant_id = ${tenantId} AND campaign_id = ${campaignId}
    ), p AS (
      SELECT coalesce(sum(vanished), 0)::int AS vanished, count(*) FILTER (WHERE state = 'planned')::int AS unexpanded
      FROM campaign_pages WHERE tenant_id = ${tenantId} AND campaign_id = ${campaignId}
    ), f AS (
      -- The exact check runs only when the cheap conditions hold (CASE evaluates lazily).
      SELECT m.*, p.vanished AS vanished_estimate,
        CASE WHEN m.open = 0 AND p.unexpanded = 0 THEN NOT ${unhandled} ELSE false END AS finished
      FROM m, p
    ), g AS (
      SELECT f.*, CASE WHEN f.finished
        THEN greatest(0, (SELECT total FROM campaigns WHERE tenant_id = ${tenantId} AND id = ${campaignId}) - f.sent - f.failed - f.skipped - f.unknown)
        ELSE f.vanished_estimate END AS vanished
      FROM f
    )
    UPDATE campaigns SET
      sent = g.sent, failed = g.failed, skipped = g.skipped + g.vanished, unknown = g.unknown,
      -- A recount is not progress: updated_at moves with live reports, completion or a repair, so the
      -- cron can still tell a campaign that stopped moving.
      updated_at = CASE WHEN (g.finished AND campaigns.state = 'sending') OR ${touch} THEN now() ELSE campaigns.updated_at END,
      state = CASE WHEN g.finished AND campaigns.state = 'sending'
        THEN (CASE WHEN g.sent = 0 AND g.failed > 0 THEN 'failed' ELSE 'completed' END) ELSE campaigns.state END,
      completed_at = CASE WHEN g.finished AND campaigns.state = 'sending' THEN now() ELSE campaigns.completed_at END
    FROM g
    WHERE campaigns.tenant_id = ${tenantId} AND campaigns.id = ${campaignId}
    RETURNING campaigns.state, campaigns.total, g.sent, g.failed, g.skipped + g.vanished AS skipped, g.unknown, g.vanished, g.open`);
  });
  const row = result.rows[0];
  if (!row) return undefined;
  return {
    state: row.state,
    counts: {
      total: row.total,
      sent: row.sent,
      failed: row.failed,
      skipped: row.skipped - row.vanished,
      unknown: row.unknown,
      vanished: row.vanished,
    },
    open: row.open,
  };
}

/** The live view's counters, written to a sending campaign's row for readers of the API between recounts. */
export async function writeLiveCountsRow(
  db: Db,
  p: { tenantId: string; campaignId: string; total: number; sent: number; failed: number; skipped: number; unknown: number },
) {
  await db.execute(sql`
    UPDATE campaigns SET total = ${p.total}, sent = ${p.sent}, failed = ${p.failed}, skipped = ${p.skipped}, unknown = ${p.unknown}, updated_at = now()
    WHERE tenant_id = ${p.tenantId} AND id = ${p.campaignId} AND state = 'sending'`);
}

/**
 * Sending campaigns whose progress has not moved for `minutes` and that are not waiting on a rate
 * limit or a quota: the cron recounts them. A repair touches updated_at, so the oldest go first and
 * each takes its turn.
 */
export async function stalledCampaigns(db: Db, minutes: number, limit: number): Promise<{ id: string; tenant_id: string }[]> {
  const result = await db.execute<{ id: string; tenant_id: string }>(sql`
    SELECT id, tenant_id FROM campaigns
    WHERE state = 'sending' AND updated_at < now() - make_interval(mins => ${minutes})
      AND (waiting_until IS NULL OR waiting_until < now())
    ORDER BY updated_at LIMIT ${limit}`);
  return result.rows;
}
