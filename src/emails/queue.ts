import { sql } from "drizzle-orm";
import { z } from "zod";
import { monthOfUuidv7 } from "../lib/ids";
import type { Db } from "../services/db";
import type { QueuedEmail } from "./accept";

/** A transactional email waiting on the herald-transactional queue. */
export const TransactionalMessage = z.object({
  type: z.literal("email"),
  tenant_id: z.string().uuid(),
  email_id: z.string().uuid(),
  month: z.string().regex(/^\d{4}-\d{2}-01$/),
});
export type TransactionalMessage = z.infer<typeof TransactionalMessage>;

/** Cloudflare Queues delays a message by at most 12 hours. */
const MAX_DELAY_SECONDS = 43_200;

export async function enqueueEmails(queue: Queue, tenantId: string, queued: (QueuedEmail & { delaySeconds?: number })[]): Promise<void> {
  for (let i = 0; i < queued.length; i += 100) {
    await queue.sendBatch(
      queued.slice(i, i + 100).map((q) => ({
        body: { type: "email", tenant_id: tenantId, email_id: q.id, month: q.month } satisfies TransactionalMessage,
        delaySeconds: q.delaySeconds ? Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.ceil(q.delaySeconds))) : undefined,
      })),
    );
  }
}

/** How long a queued email may wait before the cron assumes its queue message was lost. */
const LOST_AFTER_MINUTES = 2;
const OUTBOX_BATCH = 1_000;

/**
 * The outbox pass of the cron: scheduled emails coming due within the minute, and queued emails
 * whose queue message looks lost, are (re)queued. A duplicate queue message is harmless: the
 * consumer claims an email in the message log before sending it, once.
 */
export async function requeueDueEmails(db: Db, queue: Queue): Promise<number> {
  const due = await db.execute<{ id: string; tenant_id: string; scheduled_at: string | null }>(sql`
    WITH due AS (
      SELECT id FROM emails
      WHERE (status = 'queued' AND enqueued_at < now() - make_interval(mins => ${LOST_AFTER_MINUTES}))
         OR (status = 'scheduled' AND scheduled_at <= now() + interval '60 seconds')
      LIMIT ${OUTBOX_BATCH}
      FOR UPDATE SKIP LOCKED
    )
    UPDATE emails e SET status = 'queued', last_event = 'queued', enqueued_at = now(), updated_at = now()
    FROM due WHERE e.id = due.id
    RETURNING e.id, e.tenant_id, e.scheduled_at`);
  const byTenant = new Map<string, (QueuedEmail & { delaySeconds?: number })[]>();
  const now = Date.now();
  for (const row of due.rows) {
    const delay = row.scheduled_at ? (new Date(row.scheduled_at).getTime() - now) / 1000 : 0;
    byTenant.set(row.tenant_id, [...(byTenant.get(row.tenant_id) ?? []), { id: row.id, month: monthOfUuidv7(row.id), delaySeconds: delay > 0 ? delay : undefined }]);
  }
  for (const [tenantId, queued] of byTenant) await enqueueEmails(queue, tenantId, queued);
  return due.rows.length;
}

/** Idempotency keys older than the window are dropped by the cron. */
export async function pruneIdempotencyKeys(db: Db): Promise<void> {
  await db.execute(sql`DELETE FROM idempotency_keys WHERE created_at < now() - interval '25 hours'`);
}

/** A claim older than this means its sender died mid-send (a queue invocation lasts minutes at most). */
const STALE_CLAIM_MINUTES = 15;

/**
 * Transactional emails whose claim went stale (the consumer died after claiming, maybe after the
 * provider accepted) are settled as failed with outcome_unknown, as campaign claims are: never
 * re-sent, because a duplicate is worse than a report that says we cannot know.
 */
export async function sweepStaleTransactional(db: Db): Promise<number> {
  const swept = await db.execute<{ id: string }>(sql`
    WITH candidates AS (
      SELECT id, tenant_id,
        date_trunc('month', to_timestamp(('x' || lpad(substr(replace(id::text, '-', ''), 1, 12), 16, '0'))::bit(64)::bigint / 1000.0) AT TIME ZONE 'UTC')::date AS month
      FROM emails
      WHERE status = 'queued' AND enqueued_at < now() - make_interval(mins => ${STALE_CLAIM_MINUTES})
      LIMIT ${OUTBOX_BATCH}
    ), failed AS (
      UPDATE messages m SET status = 'failed', updated_at = now(),
        error = 'outcome_unknown: the sender stopped after claiming; not re-sent to avoid a duplicate'
      FROM candidates c
      WHERE m.month = c.month AND m.id = c.id AND m.tenant_id = c.tenant_id AND m.status = 'claimed'
        AND m.updated_at < now() - make_interval(mins => ${STALE_CLAIM_MINUTES})
      RETURNING m.id
    )
    UPDATE emails e SET status = 'failed', last_event = 'failed', updated_at = now()
    FROM failed f WHERE e.id = f.id
    RETURNING e.id`);
  return swept.rows.length;
}
