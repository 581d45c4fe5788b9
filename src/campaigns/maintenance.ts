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

/** Makes sure next months' message partitions exist, at most once an hour per isolate. */
export async function ensurePartitions(db: Db): Promise<void> {
  if (Date.now() - partitionsCheckedAt < 3_600_000) return;
  await db.execute(sql`SELECT herald_ensure_message_partitions(2)`);
  partitionsCheckedAt = Date.now();
}
