import { count } from "../lib/metrics";
import { type FanoutMessage, queueDelay, MAX_BATCH_BYTES, MAX_BATCH_MESSAGES, MAX_MESSAGE_BYTES, RECIPIENTS_PER_MESSAGE, type Recipient, type SendMessage } from "./messages";

const encoder = new TextEncoder();
const byteLength = (value: unknown) => encoder.encode(JSON.stringify(value)).length;

/**
 * Packs recipients into send messages of at most 100 recipients and MAX_MESSAGE_BYTES each (a
 * contact with large attributes makes its message smaller), then sends them with sendBatch calls
 * of at most 100 messages and MAX_BATCH_BYTES. Returns how many queue messages were sent.
 */
export async function enqueueRecipients(
  queue: Queue,
  head: Omit<SendMessage, "recipients">,
  recipients: Recipient[],
): Promise<number> {
  const messages: { body: SendMessage; bytes: number }[] = [];
  const overhead = byteLength({ ...head, recipients: [] });
  let current: Recipient[] = [];
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

  let batch: MessageSendRequest<SendMessage>[] = [];
  let batchBytes = 0;
  const sends: Promise<unknown>[] = [];
  for (const m of messages) {
    if (batch.length >= MAX_BATCH_MESSAGES || batchBytes + m.bytes > MAX_BATCH_BYTES) {
      sends.push(queue.sendBatch(batch));
      batch = [];
      batchBytes = 0;
    }
    batch.push({ body: m.body, contentType: "json" });
    batchBytes += m.bytes;
  }
  if (batch.length > 0) sends.push(queue.sendBatch(batch));
  await Promise.all(sends);
  count("queue_messages", messages.length);
  return messages.length;
}

/** Queues one fan-out step. */
export async function sendFanout(env: Env, message: FanoutMessage): Promise<void> {
  await env.FANOUT_QUEUE.send(message, { contentType: "json" });
  count("queue_messages");
}

/** Queues many fan-out steps, in sendBatch calls of at most 100. */
export async function sendFanouts(env: Env, messages: FanoutMessage[]): Promise<void> {
  for (let i = 0; i < messages.length; i += MAX_BATCH_MESSAGES) {
    await env.FANOUT_QUEUE.sendBatch(messages.slice(i, i + MAX_BATCH_MESSAGES).map((body) => ({ body, contentType: "json" as const })));
  }
  count("queue_messages", messages.length);
}

/**
 * Puts send messages back on the queue with a delay, as new messages: waiting for the rate limiter
 * is not a failure, so it must not use up the message's retries and land it in the dead-letter queue.
 */
export async function requeueSends(queue: Queue, items: { body: SendMessage; delaySeconds: number }[]): Promise<void> {
  let batch: MessageSendRequest<SendMessage>[] = [];
  let bytes = 0;
  const flush = async () => {
    if (batch.length > 0) await queue.sendBatch(batch);
    count("queue_messages", batch.length);
    batch = [];
    bytes = 0;
  };
  for (const item of items) {
    const size = byteLength(item.body);
    if (batch.length >= MAX_BATCH_MESSAGES || bytes + size > MAX_BATCH_BYTES) await flush();
    batch.push({ body: item.body, contentType: "json", delaySeconds: queueDelay(item.delaySeconds) });
    bytes += size;
  }
  await flush();
}
