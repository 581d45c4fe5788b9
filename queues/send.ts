import { requeueSends } from "../src/campaigns/enqueue";
import { SendMessage } from "../src/campaigns/queue-messages";
import { sendCampaignChunk } from "../src/campaigns/send-chunk";
import type { SendJob } from "../src/campaigns/send-job";
import { chaosOf } from "../src/lib/chaos";
import type { Logger } from "../src/services/logger";
import { backoffSeconds, consumeGroups } from "./handler";

/**
 * A batch is worked in chunks of this many messages of one campaign, a few at a time, so one
 * chunk's Postgres work overlaps another's provider calls. A chunk holds at most 5,000 recipients,
 * which bounds the memory and CPU of a chunk whatever the batch.
 */
const CHUNK_MESSAGES = 50;
const CHUNKS_IN_FLIGHT = 2;
/**
 * Provider requests one invocation may make. Workers Paid allows 10,000 subrequests per invocation
 * (provider calls, DO calls, queue sends and database connections together); provider calls get
 * half, which leaves the rest far more than a batch's other calls need.
 */
export const PROVIDER_CALL_BUDGET = 5000;

/**
 * The send consumer: messages grouped by campaign and cut into chunks, each chunk handed to the
 * campaign module; then each message is acked, retried or re-queued by what happened to it. A chunk
 * that throws retries only its own messages, so one tenant's failure never fails another tenant's
 * messages in the same batch. The provider-call budget and fault injection are per invocation.
 */
export function processSendBatch(batch: MessageBatch, env: Env, ctx: ExecutionContext, logger: Logger): Promise<void> {
  const crash = chaosOf(env)?.invocation() ?? { at() {} };
  const budget = { calls: PROVIDER_CALL_BUDGET };
  return consumeGroups({
    what: "send message",
    schema: SendMessage,
    key: (b) => `${b.tenant_id}:${b.campaign_id}`,
    fields: ({ body: b }) => ({ tenant_id: b.tenant_id, campaign_id: b.campaign_id }),
    partSize: CHUNK_MESSAGES,
    concurrency: CHUNKS_IN_FLIGHT,
    async handle(items, { env, db, logger }) {
      const jobs = items.map(({ message, body }): SendJob => ({ messageId: message.id, attempts: message.attempts, body }));
      try {
        await sendCampaignChunk(jobs, { env, db, logger, budget, crash, backoff: backoffSeconds });
      } catch (err) {
        logger.warn("send chunk failed; its messages will be retried", { err });
        for (const job of jobs) job.retryAfter ??= backoffSeconds(job.attempts);
      }
      await requeueWaiting(jobs, env, logger);
      items.forEach((item, i) => {
        item.retryAfter = jobs[i]!.retryAfter;
      });
    },
  })(batch, env, ctx, logger);
}

/**
 * Puts the messages that only wait for the rate limiter back on the queue as new messages; those
 * that cannot be re-queued are retried instead.
 */
async function requeueWaiting(jobs: SendJob[], env: Env, logger: Logger) {
  const requeue = jobs.filter((job) => job.retryAfter === undefined && job.requeue?.length);
  if (requeue.length === 0) return;
  try {
    // Spread the wake-ups, so waiting messages don't all come back to fight for the same tokens.
    const items = requeue
      .flatMap((job) => job.requeue!)
      .map((r, i) => ({ body: r.body, delaySeconds: r.seconds > 0 ? r.seconds + (i % 10) * 0.5 : 0 }));
    await requeueSends(env.SEND_QUEUE, items);
  } catch (err) {
    logger.warn("could not re-queue waiting messages; retrying them instead", { err });
    for (const job of requeue) job.retryAfter = Math.max(1, ...job.requeue!.map((r) => r.seconds));
  }
}
