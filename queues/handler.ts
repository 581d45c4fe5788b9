import type { Logger } from "../src/services/logger";
import { Envelope } from "./messages";

export interface QueueContext {
  env: Env;
  ctx: ExecutionContext;
  logger: Logger;
}

/** Handles one valid message. Throwing retries that message alone, with backoff. */
export type MessageHandler = (body: Envelope & Record<string, unknown>, qc: QueueContext) => Promise<void>;

const BACKOFF_BASE_SECONDS = 2;
const BACKOFF_MAX_SECONDS = 300;

export function backoffSeconds(attempts: number): number {
  const ceiling = Math.min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** Math.max(0, attempts - 1));
  // Full jitter, so redeliveries after a shared outage don't arrive in lockstep.
  return Math.max(1, Math.round(Math.random() * ceiling));
}

/**
 * Runs `handle` for every message of a batch, acking or retrying each on its own so one bad message
 * never drags its batch-mates into a retry. A message that is not even a valid envelope can never
 * succeed, so it is logged and acknowledged rather than retried into the dead-letter queue.
 */
export async function processBatch(batch: MessageBatch, handle: MessageHandler, qc: QueueContext): Promise<void> {
  for (const message of batch.messages) {
    const log = qc.logger.child({ queue: batch.queue, message_id: message.id, attempts: message.attempts });
    const parsed = Envelope.safeParse(message.body);
    if (!parsed.success) {
      log.error("malformed queue message dropped", { issues: parsed.error.issues.map((i) => i.path.join(".") || "(root)") });
      message.ack();
      continue;
    }
    try {
      await handle(message.body as Envelope & Record<string, unknown>, { ...qc, logger: log.child({ tenant_id: parsed.data.tenant_id }) });
      message.ack();
    } catch (err) {
      const delaySeconds = backoffSeconds(message.attempts);
      log.warn("queue message failed; will retry", { err, delay_seconds: delaySeconds });
      message.retry({ delaySeconds });
    }
  }
}
