import { jsonBytes as byteLength, queueDelay, sendInBatches } from "../lib/queues";
import { type FanoutMessage, MAX_MESSAGE_BYTES, RECIPIENTS_PER_MESSAGE, type QueuedRecipient, type SendMessage } from "./queue-messages";

/**
 * Packs recipients into send messages of at most 100 recipients and MAX_MESSAGE_BYTES each (a
 * contact with large attributes makes its message smaller), then sends them with sendBatch calls
 * of at most 100 messages and MAX_BATCH_BYTES. Returns how many queue messages were sent.
 */
export async function enqueueRecipients(
  queue: Queue,
  head: Omit<SendMessage, "recipients">,
  recipients: QueuedRecipient[],
): Promise<number> {
  const messages: { body: SendMessage; bytes: number }[] = [];
  const overhead = byteLength({ ...head, recipients: [] });
  let current: QueuedRecipient[] = [];
  let currentBytes = overhead;
  const flush = () => {
    if (current.length === 0) return;
    messages.push({ body: { ...head, recipients: current }, bytes: currentBytes });
    current = [];
    currentBytes = overhead;
  };
  for (const r of recipients) {
    const size = byteLength(r) + 1;
    if (overhead + size > MAX_MESSAGE_BYTES) throw new RangeError(`recipient ${r.c} is too large to queue`);
    if (current.length >= RECIPIENTS_PER_MESSAGE || currentBytes + size > MAX_MESSAGE_BYTES) flush();
    current.push(r);
    currentBytes += size;
  }
  flush();

  await sendInBatches(
    queue,
    messages.map((m) => ({ body: m.body, contentType: "json" as const })),
    messages.map((m) => m.bytes),
  );
  return messages.length;
}

/** Queues one fan-out step, after `delaySeconds` if given. */
export async function sendFanout(env: Env, message: FanoutMessage, opts: { delaySeconds?: number } = {}): Promise<void> {
  const delay = opts.delaySeconds === undefined ? {} : { delaySeconds: queueDelay(opts.delaySeconds) };
  await env.FANOUT_QUEUE.send(message, { contentType: "json", ...delay });
}

/** Queues many fan-out steps. */
export async function sendFanouts(env: Env, messages: FanoutMessage[]): Promise<void> {
  await sendInBatches(
    env.FANOUT_QUEUE,
    messages.map((body) => ({ body, contentType: "json" as const })),
  );
}

/**
 * Puts send messages back on the queue with a delay, as new messages: waiting for the rate limiter
 * is not a failure, so it must not use up the message's retries and land it in the dead-letter queue.
 */
export async function requeueSends(queue: Queue, items: { body: SendMessage; delaySeconds: number }[]): Promise<void> {
  await sendInBatches(
    queue,
    items.map((item) => ({ body: item.body, contentType: "json" as const, delaySeconds: queueDelay(item.delaySeconds) })),
  );
}
