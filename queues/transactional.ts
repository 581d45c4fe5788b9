import type { Logger } from "../src/services/logger";

export async function processTransactionalBatch(batch: MessageBatch, _env: Env, _ctx: ExecutionContext, logger: Logger): Promise<void> {
  logger.warn("transactional sending is not implemented yet");
  batch.retryAll({ delaySeconds: 60 });
}
