import { ZodError, type z } from "zod";
import { groupBy } from "../src/lib/collections";
import { runLimited } from "../src/lib/concurrency";
import { buildServices, type Services } from "../src/services";
import type { Db } from "../src/services/db";
import type { Logger } from "../src/services/logger";
import { Envelope } from "./envelope";

export interface QueueContext {
  env: Env;
  ctx: ExecutionContext;
  logger: Logger;
  /** The batch's database, opened on first use and closed when the batch is done. */
  db: () => Db;
  /** How many times this message has been delivered, this delivery included. */
  attempts: number;
}

/** Handles one valid message. Throwing retries that message alone, with backoff. */
export type MessageHandler = (body: Envelope & Record<string, unknown>, qc: QueueContext) => Promise<void>;

const BACKOFF_BASE_SECONDS = 2;
const BACKOFF_MAX_SECONDS = 300;
// Messages of one batch in flight at once; each holds at most one of the batch pool's connections.
const CONCURRENCY = 16;

export function backoffSeconds(attempts: number): number {
  const ceiling = Math.min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** Math.max(0, attempts - 1));
  // Full jitter, so redeliveries after a shared outage don't arrive in lockstep.
  return Math.max(1, Math.round(Math.random() * ceiling));
}

/**
 * Runs `handle` for every message of a batch (a few at a time), acking or retrying each on its
 * own so one bad message never drags its batch-mates into a retry. A message that is not even a
 * valid envelope can never succeed, so it is logged and acknowledged instead of being retried
 * into the dead-letter queue.
 */
export async function processBatch(
  batch: MessageBatch,
  handle: MessageHandler,
  base: { env: Env; ctx: ExecutionContext; logger: Logger },
): Promise<void> {
  await withBatchServices(base.env, base.ctx, base.logger, async (services) => {
    const db = () => services.db;
    await runLimited(
      batch.messages.map((message) => () => processOne(message, batch.queue, handle, { ...base, db, attempts: message.attempts })),
      CONCURRENCY,
    );
  });
}

/**
 * Runs one batch's work with its services (src/services/index.ts), which are closed once the batch
 * is done: the pool, opened on first query, never outlives its batch.
 */
export async function withBatchServices<T>(
  env: Env,
  ctx: ExecutionContext,
  logger: Logger,
  work: (services: Services) => Promise<T>,
): Promise<T> {
  const services = buildServices(env, logger);
  try {
    return await work(services);
  } finally {
    ctx.waitUntil(services.close());
  }
}

async function processOne(message: Message, queue: string, handle: MessageHandler, qc: QueueContext) {
  const log = qc.logger.child({ queue, message_id: message.id, attempts: message.attempts });
  const parsed = Envelope.safeParse(message.body);
  if (!parsed.success) {
    log.error("malformed queue message dropped", { issues: parsed.error.issues.map((i) => i.path.join(".") || "(root)") });
    message.ack();
    return;
  }
  try {
    await handle(message.body as Envelope & Record<string, unknown>, { ...qc, logger: log.child({ tenant_id: parsed.data.tenant_id }) });
    message.ack();
  } catch (err) {
    if (err instanceof ZodError) {
      // The body is not what this queue's consumer takes; no retry will change that.
      log.error("malformed queue message dropped", { issues: err.issues.map((i) => i.path.join(".") || "(root)") });
      message.ack();
      return;
    }
    const delaySeconds = backoffSeconds(message.attempts);
    log.warn("queue message failed; will retry", { err, delay_seconds: delaySeconds });
    message.retry({ delaySeconds });
  }
}

/**
 * Parses every message of a batch with `schema` and groups the valid ones by `key`. A message that
 * does not parse can never succeed, so it is logged and acknowledged rather than retried.
 */
export function parseAndGroup<S extends z.ZodType>(
  batch: MessageBatch,
  schema: S,
  key: (body: z.infer<S>) => string,
  logger: Logger,
  what: string,
): Map<string, { message: Message; body: z.infer<S> }[]> {
  const valid: { message: Message; body: z.infer<S> }[] = [];
  for (const message of batch.messages) {
    const parsed = schema.safeParse(message.body);
    if (parsed.success) valid.push({ message, body: parsed.data });
    else {
      logger.error(`malformed ${what} dropped`, {
        message_id: message.id,
        issues: parsed.error.issues.map((i) => i.path.join(".") || "(root)"),
      });
      message.ack();
    }
  }
  return groupBy(valid, (v) => key(v.body));
}
