import { chaosOf } from "../src/lib/chaos";
import { newLogger } from "../src/services";
import { handleDeadLetter } from "./consumers";
import { processEventsBatch } from "./events";
import { handleDeadFanout, handleDeadSend } from "./dead-letters";
import { handleFanout } from "./fanout";
import { processBatch, type MessageHandler } from "./handler";
import { DLQ_SUFFIX, QUEUE_NAMES } from "./envelope";
import { processSendBatch } from "./send";
import { processTransactionalBatch } from "./transactional";
import { handleDeadWebhook, processWebhookBatch } from "./webhooks";

const HANDLERS: Record<string, MessageHandler> = {
  [QUEUE_NAMES.fanout]: handleFanout,
};

const DEAD_LETTER_HANDLERS: Record<string, MessageHandler> = {
  [QUEUE_NAMES.send]: handleDeadSend,
  [QUEUE_NAMES.fanout]: handleDeadFanout,
  [QUEUE_NAMES.events]: handleDeadLetter,
  [QUEUE_NAMES.transactional]: handleDeadLetter,
  [QUEUE_NAMES.webhooks]: handleDeadWebhook,
};

/** Queues whose consumer works on the whole batch at once rather than message by message. */
const BATCH_HANDLERS: Record<string, typeof processSendBatch> = {
  [QUEUE_NAMES.send]: processSendBatch,
  [QUEUE_NAMES.transactional]: processTransactionalBatch,
  [QUEUE_NAMES.events]: processEventsBatch,
  [QUEUE_NAMES.webhooks]: processWebhookBatch,
};

export function handlerFor(queue: string): MessageHandler | undefined {
  if (queue.endsWith(DLQ_SUFFIX)) return DEAD_LETTER_HANDLERS[queue.slice(0, -DLQ_SUFFIX.length)];
  return HANDLERS[queue];
}

/** The pipeline's queues, by name, for fault injection's duplicate deliveries. */
function pipelineQueue(env: Env, name: string): Queue | undefined {
  if (name === QUEUE_NAMES.send) return env.SEND_QUEUE;
  if (name === QUEUE_NAMES.fanout) return env.FANOUT_QUEUE;
  return undefined;
}

export async function queue(batch: MessageBatch, env: Env, ctx: ExecutionContext): Promise<void> {
  const logger = newLogger(env, { batch_id: crypto.randomUUID(), queue: batch.queue });
  const chaos = chaosOf(env);
  const target = chaos && pipelineQueue(env, batch.queue);
  if (chaos && target) {
    // Fault injection (benchmarks and tests only): some messages arrive a second time, as a queue may deliver them.
    const twice = chaos.duplicates(batch.messages);
    if (twice.length > 0) await target.sendBatch(twice.map((m) => ({ body: m.body, contentType: "json" as const }))).catch(() => {});
  }
  const whole = BATCH_HANDLERS[batch.queue];
  if (whole) return whole(batch, env, ctx, logger);
  const handle = handlerFor(batch.queue);
  if (!handle) {
    // A queue bound to this worker by mistake: keep its messages for whoever should consume them.
    logger.error("no consumer for queue; retrying batch");
    batch.retryAll({ delaySeconds: 60 });
    return;
  }
  await processBatch(batch, handle, { env, ctx, logger });
}
