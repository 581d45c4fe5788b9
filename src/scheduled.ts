import { JsonLogger, parseLogLevel } from "./services/logger";

/** The cron tick. Launching scheduled campaigns that have come due hangs off this. */
export async function scheduled(controller: ScheduledController, env: Env, _ctx: ExecutionContext): Promise<void> {
  const logger = new JsonLogger({ cron: controller.cron, tick_id: crypto.randomUUID() }, parseLogLevel(env.LOG_LEVEL));
  logger.info("cron tick", { scheduled_time: new Date(controller.scheduledTime).toISOString() });
}
