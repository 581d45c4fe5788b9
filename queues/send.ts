import { requeueSends } from "../src/campaigns/enqueue";
import { SendMessage } from "../src/campaigns/queue-messages";
import { sendCampaignChunk, type SendJob } from "../src/campaigns/send-chunk";
import { chaosOf } from "../src/lib/chaos";
import { runLimited } from "../src/lib/concurrency";
import { queueDelay } from "../src/lib/queues";
import type { Logger } from "../src/services/logger";
import { backoffSeconds, parseAndGroup, withBatchServices } from "./handler";

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
 * The send consumer: parse, group by campaign, hand each chunk to the campaign module, then ack,
 * retry or re-queue each message by what happened to it. A chunk that throws retries only its own
 * messages, so one tenant's failure never fails another tenant's messages in the same batch.
 */
export async function processSendBatch(batch: MessageBatch, env: Env, ctx: ExecutionContext, logger: Logger): Promise<void> {
  const byCampaign = parseAndGroup(batch, SendMessage, (b) => `${b.tenant_id}:${b.campaign_id}`, logger, "send message");
  if (byCampaign.size === 0) return;
  const crash = chaosOf(env)?.invocation() ?? { at() {} };
  const budget = { calls: PROVIDER_CALL_BUDGET };
  const chunks: { job: SendJob; message: Message }[][] = [];
  for (const items of byCampaign.values()) {
    const jobs = items.map(({ message, body }) => ({
      message,
      job: { messageId: message.id, attempts: message.attempts, body } satisfies SendJob,
    }));
    for (let i = 0; i < jobs.length; i += CHUNK_MESSAGES) chunks.push(jobs.slice(i, i + CHUNK_MESSAGES));
  }
  await withBatchServices(env, ctx, logger, async ({ db }) => {
    await runLimited(
      chunks.map((chunk) => async () => {
        const jobs = chunk.map((c) => c.job);
        const log = logger.child({ tenant_id: jobs[0]!.body.tenant_id, campaign_id: jobs[0]!.body.campaign_id });
        try {
          await sendCampaignChunk(jobs, { env, db, logger: log, budget, crash, backoff: backoffSeconds });
        } catch (err) {
          log.warn("send chunk failed; its messages will be retried", { err });
          for (const job of jobs) job.retryAfter ??= backoffSeconds(job.attempts);
        }
        await settle(chunk, env, log);
      }),
      CHUNKS_IN_FLIGHT,
    );
  });
}

/** Acks, retries or re-queues each message of a chunk according to what happened to it. */
async function settle(chunk: { job: SendJob; message: Message }[], env: Env, logger: Logger) {
  const requeue = chunk.filter((c) => c.job.retryAfter === undefined && c.job.requeue?.length);
  if (requeue.length > 0) {
    try {
      // Spread the wake-ups, so waiting messages don't all come back to fight for the same tokens.
      const items = requeue
        .flatMap((c) => c.job.requeue!)
        .map((r, i) => ({ body: r.body, delaySeconds: r.seconds > 0 ? r.seconds + (i % 10) * 0.5 : 0 }));
      await requeueSends(env.SEND_QUEUE, items);
    } catch (err) {
      logger.warn("could not re-queue waiting messages; retrying them instead", { err });
      for (const c of requeue) c.job.retryAfter = Math.max(1, ...c.job.requeue!.map((r) => r.seconds));
    }
  }
  for (const { job, message } of chunk) {
    if (job.retryAfter !== undefined) message.retry({ delaySeconds: queueDelay(job.retryAfter) });
    else message.ack();
  }
}
