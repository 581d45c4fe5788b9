import { sendTenantEmails, type EmailJob } from "../src/emails/deliver";
import { TransactionalMessage } from "../src/emails/queue";
import { queueDelay } from "../src/lib/queues";
import type { Logger } from "../src/services/logger";
import { backoffSeconds, parseAndGroup, withBatchServices } from "./handler";

/**
 * The herald-transactional consumer: parse, group by tenant, hand each tenant's emails to
 * src/emails/deliver.ts, then ack or retry each message by what happened to it. This queue never
 * carries campaign mail, so a campaign's backlog never delays it, and its leases draw on the share
 * of each provider's rate that campaign leases leave alone. A tenant whose send throws retries only
 * its own messages.
 */
export async function processTransactionalBatch(batch: MessageBatch, env: Env, ctx: ExecutionContext, logger: Logger): Promise<void> {
  const byTenant = parseAndGroup(batch, TransactionalMessage, (b) => b.tenant_id, logger, "transactional message");
  if (byTenant.size === 0) return;
  await withBatchServices(env, ctx, logger, async ({ db }) => {
    for (const [tenantId, items] of byTenant) {
      const log = logger.child({ tenant_id: tenantId });
      const jobs: EmailJob[] = items.map(({ message, body }) => ({ body, attempts: message.attempts }));
      try {
        await sendTenantEmails(tenantId, jobs, { env, db, logger: log, backoff: backoffSeconds });
      } catch (err) {
        log.warn("transactional send failed; its messages will be retried", { err });
        for (const job of jobs) job.retryAfter ??= backoffSeconds(job.attempts);
      }
      items.forEach(({ message }, i) => {
        const retryAfter = jobs[i]!.retryAfter;
        if (retryAfter !== undefined) message.retry({ delaySeconds: queueDelay(retryAfter) });
        else message.ack();
      });
    }
  });
}
