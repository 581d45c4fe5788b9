import { ensurePartitions, launchDueCampaigns, repairStalledProgress, sweepStaleClaims } from "./campaigns/maintenance";
import { pruneIdempotencyKeys, requeueDueEmails, sweepStaleTransactional } from "./emails/queue";
import { openDb } from "./services/db";
import { JsonLogger, parseLogLevel } from "./services/logger";

/**
 * The cron tick: launch due campaigns, resolve stale claims, repair stalled progress, keep message
 * and event partitions ahead, queue due and lost transactional emails, drop expired idempotency keys.
 */
export async function scheduled(controller: ScheduledController, env: Env, ctx: ExecutionContext): Promise<void> {
  const logger = new JsonLogger({ cron: controller.cron, tick_id: crypto.randomUUID() }, parseLogLevel(env.LOG_LEVEL));
  const handle = openDb(env);
  try {
    await ensurePartitions(handle.db);
    const launched = await launchDueCampaigns(handle.db, env, logger);
    const swept = await sweepStaleClaims(handle.db, env, logger);
    const repaired = await repairStalledProgress(handle.db, env, logger);
    const settled = await sweepStaleTransactional(handle.db);
    const requeued = await requeueDueEmails(handle.db, env.TRANSACTIONAL_QUEUE);
    await pruneIdempotencyKeys(handle.db);
    logger.info("cron tick", { scheduled_time: new Date(controller.scheduledTime).toISOString(), launched, swept, repaired, settled, requeued });
  } finally {
    ctx.waitUntil(handle.close());
  }
}
