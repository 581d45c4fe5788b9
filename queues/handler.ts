import { ZodError, type z } from "zod";
import { groupBy } from "../src/lib/collections";
import { runLimited } from "../src/lib/concurrency";
import { buildServices, type Services } from "../src/services";
import type { Db } from "../src/services/db";
import { queueDelay } from "../src/lib/queues";
import type { LogFields, Logger } from "../src/services/logger";
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
 * Runs `handle` for every message of a batch on its own (a few at a time), acking or retrying each
 * so one bad message never drags its batch-mates into a retry. A message that is not even a valid
 * envelope, or that its handler finds malformed (a ZodError), can never succeed, so it is logged
 * and acknowledged instead of being retried into the dead-letter queue.
 */
export function processBatch(
  batch: MessageBatch,
  handle: MessageHandler,
  base: { env: Env; ctx: ExecutionContext; logger: Logger },
): Promise<void> {
  return consumeGroups({
    what: "queue message",
    // Loose: the handler gets the whole body, and parses the rest of it with its own schema.
    schema: Envelope.loose(),
    fields: ({ message, body }) => ({ queue: batch.queue, message_id: message.id, attempts: message.attempts, tenant_id: body.tenant_id }),
    concurrency: CONCURRENCY,
    async handle([item], { env, db, logger }) {
      try {
        await handle(item!.body, { env, ctx: base.ctx, logger, db: () => db, attempts: item!.message.attempts });
      } catch (err) {
        if (!(err instanceof ZodError)) throw err;
        logger.error("malformed queue message dropped", { issues: err.issues.map((i) => i.path.join(".") || "(root)") });
      }
    },
  })(batch, base.env, base.ctx, base.logger);
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

/** One valid message of a group, and what the consumer decided for it. */
export interface Item<T> {
  message: Message;
  body: T;
  /** Set by the consumer to retry this message after that many seconds; left unset, it is acknowledged. */
  retryAfter?: number;
}

/** What a consumer of whole groups supplies; consumeGroups does the rest. */
export interface GroupConsumer<S extends z.ZodType> {
  /** Names the message kind in the log line for a message that does not parse. */
  what: string;
  schema: S;
  /** Messages with one key are handled together (one tenant, one campaign...); without it, each alone. */
  key?: (body: z.infer<S>) => string;
  /** Fields for the log lines of a group, from its first message. */
  fields: (first: Item<z.infer<S>>) => LogFields;
  /** Groups are cut into parts of at most this many messages (default: whole groups). */
  partSize?: number;
  /** Parts handled at once (default 1). */
  concurrency?: number;
  /**
   * Handles one part and sets retryAfter on the items to retry. Throwing retries every item of the
   * part that has no retryAfter yet, with backoff, so one group's failure never fails another's.
   */
  handle: (items: Item<z.infer<S>>[], qc: { env: Env; db: Db; logger: Logger }) => Promise<void>;
}

/**
 * The one shape of herald's queue consumers: parse (a message that does not parse is logged and
 * acknowledged), group, handle each part with the batch's services, then ack or retry each
 * message by what happened to it.
 */
export function consumeGroups<S extends z.ZodType>(consumer: GroupConsumer<S>) {
  return async (batch: MessageBatch, env: Env, ctx: ExecutionContext, logger: Logger): Promise<void> => {
    let n = 0;
    const groups = parseAndGroup(batch, consumer.schema, consumer.key ?? (() => String(n++)), logger, consumer.what);
    if (groups.size === 0) return;
    const size = consumer.partSize ?? Number.POSITIVE_INFINITY;
    const parts: Item<z.infer<S>>[][] = [];
    for (const items of groups.values()) {
      for (let i = 0; i < items.length; i += size) parts.push(items.slice(i, i + size));
    }
    await withBatchServices(env, ctx, logger, async ({ db }) => {
      await runLimited(
        parts.map((items) => async () => {
          const log = logger.child(consumer.fields(items[0]!));
          try {
            await consumer.handle(items, { env, db, logger: log });
          } catch (err) {
            log.warn(`${consumer.what} handling failed; its messages will be retried`, { err });
            for (const item of items) item.retryAfter ??= backoffSeconds(item.message.attempts);
          }
          for (const { message, retryAfter } of items) {
            if (retryAfter !== undefined) message.retry({ delaySeconds: queueDelay(retryAfter) });
            else message.ack();
          }
        }),
        consumer.concurrency ?? 1,
      );
    });
  };
}
