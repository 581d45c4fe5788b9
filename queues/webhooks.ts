import type { Logger } from "../src/services/logger";
import type { MessageHandler } from "./handler";

// Outbound webhook deliveries: filled in by the outbound-webhooks work.
export async function processWebhookBatch(batch: MessageBatch, _env: Env, _ctx: ExecutionContext, logger: Logger): Promise<void> {
  logger.warn("webhook deliveries are not implemented yet");
  batch.ackAll();
}

export const handleDeadWebhook: MessageHandler = async (body, { logger }) => {
  logger.error("webhook delivery dead-lettered", { type: body.type });
};
