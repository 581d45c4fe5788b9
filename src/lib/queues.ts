/** The longest delay Queues accept for a retry or a delayed send. */
export const MAX_DELAY_SECONDS = 43_200;

/** A delay Queues will take: whole seconds, at least one, at most MAX_DELAY_SECONDS. */
export function queueDelay(seconds: number): number {
  return Math.min(MAX_DELAY_SECONDS, Math.max(1, Math.ceil(seconds)));
}

/** Queue limits per sendBatch call: 100 messages and 256 KB (kept under, for the request's own overhead). */
export const MAX_BATCH_MESSAGES = 100;
export const MAX_BATCH_BYTES = 240 * 1024;

const encoder = new TextEncoder();
export const jsonBytes = (value: unknown) => encoder.encode(JSON.stringify(value)).length;

/**
 * Sends messages in as few sendBatch calls as the limits allow, all at once. `bytes[i]` is the
 * size of message i when the caller already knows it (measured otherwise).
 */
export async function sendInBatches<T>(queue: Queue<T>, requests: MessageSendRequest<T>[], bytes?: number[]): Promise<void> {
  const sends: Promise<unknown>[] = [];
  let batch: MessageSendRequest<T>[] = [];
  let batchBytes = 0;
  requests.forEach((request, i) => {
    const size = bytes?.[i] ?? jsonBytes(request.body);
    if (batch.length >= MAX_BATCH_MESSAGES || (batch.length > 0 && batchBytes + size > MAX_BATCH_BYTES)) {
      sends.push(queue.sendBatch(batch));
      batch = [];
      batchBytes = 0;
    }
    batch.push(request);
    batchBytes += size;
  });
  if (batch.length > 0) sends.push(queue.sendBatch(batch));
  await Promise.all(sends);
}
