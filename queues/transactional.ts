import { sendTenantEmails, type EmailJob } from "../src/emails/deliver";
import { TransactionalMessage } from "../src/emails/queue";
import { backoffSeconds, consumeGroups } from "./handler";

/**
 * The herald-transactional consumer: each tenant's emails go to src/emails/deliver.ts together.
 * This queue never carries campaign mail, so a campaign's backlog never delays it, and its leases
 * draw on the share of each provider's rate that campaign leases leave alone. A tenant whose send
 * throws retries only its own messages.
 */
export const processTransactionalBatch = consumeGroups({
  what: "transactional message",
  schema: TransactionalMessage,
  key: (b) => b.tenant_id,
  fields: ({ body: b }) => ({ tenant_id: b.tenant_id }),
  async handle(items, { env, db, logger }) {
    const jobs: EmailJob[] = items.map(({ message, body }) => ({ body, attempts: message.attempts }));
    try {
      await sendTenantEmails(items[0]!.body.tenant_id, jobs, { env, db, logger, backoff: backoffSeconds });
    } finally {
      items.forEach((item, i) => {
        item.retryAfter = jobs[i]!.retryAfter;
      });
    }
  },
});
