import { ensurePartitions, launchDueCampaigns, repairStalledProgress, sweepStaleClaims } from "./campaigns/maintenance";
import { pruneIdempotencyKeys, requeueDueEmails, settleStaleEmails } from "./emails/queue";
import { replayAmbiguousBatches } from "./sending/replay";
import { buildServices, newLogger, type Services } from "./services";
import type { Db } from "./services/db";
import type { Logger } from "./services/logger";

type Step = (db: Db, env: Env, logger: Logger, services: Services) => Promise<unknown>;

/**
 * The cron tick's steps, in order. Each runs on its own: one that throws is logged with its name and
 * the others still run, so a broken partition function cannot stop launches or the claim sweep.
 */
const STEPS: [string, Step][] = [
  ["partitions", (db) => ensurePartitions(db)],
  ["launch_due", launchDueCampaigns],
  ["sweep_claims", sweepStaleClaims],
  ["replay_ambiguous", replayAmbiguousBatches],
  ["repair_stalled", repairStalledProgress],
  ["sweep_transactional", (db, env, _logger, s) => settleStaleEmails(db, env.EVENTS_QUEUE, s.config.staleClaimSeconds)],
  ["outbox", (db, env) => requeueDueEmails(db, env.TRANSACTIONAL_QUEUE)],
  ["prune_idempotency_keys", (db) => pruneIdempotencyKeys(db)],
];

export async function scheduled(controller: ScheduledController, env: Env, ctx: ExecutionContext): Promise<void> {
  const logger = newLogger(env, { cron: controller.cron, tick_id: crypto.randomUUID() });
  const services = buildServices(env, logger);
  const results: Record<string, number | string> = {};
  try {
    for (const [name, step] of STEPS) {
      try {
        const handled = await step(services.db, env, logger, services);
        results[name] = typeof handled === "number" ? handled : "ok";
      } catch (err) {
        results[name] = "failed";
        logger.error("cron step failed", { step: name, err });
      }
    }
    logger.info("cron tick", { scheduled_time: new Date(controller.scheduledTime).toISOString(), ...results });
  } finally {
    ctx.waitUntil(services.close());
  }
}
