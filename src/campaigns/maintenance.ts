import { sql } from "drizzle-orm";
import type { Db } from "../services/db";
import type { Logger } from "../services/logger";
import { launchCampaign } from "./launch";
import { progressStub } from "./progress";

/** A claim older than this belongs to a consumer that died mid-send. */
const STALE_CLAIM_MINUTES = 15;

/**
 * The one ambiguous case: a consumer claimed recipients and stopped before recording results, so
 * the provider may or may not have accepted the mail. herald never re-sends such a recipient (a
 * duplicate is worse than a miss); it marks them failed with an `outcome_unknown` error, which
 * retry-failed leaves alone.
 */
export async function sweepStaleClaims(db: Db, env: Env, logger: Logger): Promise<number> {
  // Only running campaigns can hold claims, so the sweep walks their rows by (tenant, campaign)
  // and leaves status unindexed, which keeps result writes cheap.
  const result = await db.execute<{ tenant_id: string; campaign_id: string; n: number }>(sql`
    WITH swept AS (
      UPDATE messages m SET status = 'failed', updated_at = now(),
        error = 'outcome_unknown: the sender stopped after claiming; not re-sent to avoid a duplicate'
      FROM campaigns c
      WHERE c.state IN ('sending', 'paused') AND c.message_month IS NOT NULL
        AND m.month = c.message_month AND m.tenant_id = c.tenant_id AND m.campaign_id = c.id
        AND m.status = 'claimed' AND m.updated_at < now() - make_interval(mins => ${STALE_CLAIM_MINUTES})
      RETURNING m.tenant_id, m.campaign_id
    )
    SELECT tenant_id, campaign_id, count(*)::int AS n FROM swept WHERE campaign_id IS NOT NULL GROUP BY 1, 2`);
  let total = 0;
  for (const row of result.rows) {
    total += row.n;
    await progressStub(env, row.campaign_id).report({ sent: 0, failed: row.n, skipped: 0 });
  }
  if (total > 0) logger.warn("stale claims marked outcome_unknown", { count: total });
  return total;
}

/** Launches scheduled campaigns that have come due. The one cross-tenant scan, on a partial index. */
export async function launchDueCampaigns(db: Db, env: Env, logger: Logger): Promise<number> {
  const due = await db.execute<{ id: string; tenant_id: string }>(sql`
    SELECT id, tenant_id FROM campaigns WHERE state = 'scheduled' AND scheduled_at <= now() ORDER BY scheduled_at LIMIT 50`);
  let launched = 0;
  for (const c of due.rows) {
    try {
      await launchCampaign(db, env, c.tenant_id, c.id);
      launched++;
      logger.info("scheduled campaign launched", { tenant_id: c.tenant_id, campaign_id: c.id });
    } catch (err) {
      logger.warn("scheduled campaign did not launch", { tenant_id: c.tenant_id, campaign_id: c.id, err });
    }
  }
  return launched;
}

let partitionsCheckedAt = 0;

/** Makes sure next months' message and event partitions exist, at most once an hour per isolate. */
export async function ensurePartitions(db: Db): Promise<void> {
  if (Date.now() - partitionsCheckedAt < 3_600_000) return;
  // Messages partitions keep free room in each page (fillfactor 70) so recording a result is a HOT update.
  await db.execute(sql`SELECT herald_ensure_monthly_partitions('messages', 2, 'fillfactor = 70'), herald_ensure_monthly_partitions('events', 2)`);
  partitionsCheckedAt = Date.now();
}

/** A running campaign whose progress has not moved for this long gets its counters recounted. */
const STALLED_MINUTES = 2;

/**
 * Counters travel to CampaignProgress after their rows are committed, so a lost report (a DO reset
 * mid-call, say) would leave a campaign short of its total for ever. Every minute, campaigns that
 * are sending but have not moved for a while get their counters recounted from the message log,
 * which completes them if every recipient is in fact terminal.
 */
export async function repairStalledProgress(db: Db, env: Env, logger: Logger): Promise<number> {
  const stalled = await db.execute<{ id: string; tenant_id: string; sent: number; failed: number; skipped: number }>(sql`
    SELECT c.id, c.tenant_id,
      count(*) FILTER (WHERE m.status = 'sent')::int AS sent,
      count(*) FILTER (WHERE m.status = 'failed')::int AS failed,
      count(*) FILTER (WHERE m.status = 'skipped')::int AS skipped
    FROM (SELECT id, tenant_id, message_month FROM campaigns
          WHERE state = 'sending' AND updated_at < now() - make_interval(mins => ${STALLED_MINUTES})
          ORDER BY updated_at LIMIT 20) c
    LEFT JOIN messages m ON m.month = c.message_month AND m.tenant_id = c.tenant_id AND m.campaign_id = c.id
    GROUP BY c.id, c.tenant_id`);
  for (const row of stalled.rows) {
    await progressStub(env, row.id).setCounts({ sent: row.sent, failed: row.failed, skipped: row.skipped });
    logger.warn("stalled campaign progress recounted", { tenant_id: row.tenant_id, campaign_id: row.id, sent: row.sent, failed: row.failed, skipped: row.skipped });
  }
  return stalled.rows.length;
}
