import { publishEvents, sendOutcomeEvent } from "../events/message";
import { groupBy } from "../lib/collections";
import { sql } from "drizzle-orm";
import { z } from "zod";
import { monthOfUuidv7 } from "../lib/ids";
import { queueDelay, sendInBatches } from "../lib/queues";
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

export async function enqueueEmails(queue: Queue, tenantId: string, queued: (QueuedEmail & { delaySeconds?: number })[]): Promise<void> {
  await sendInBatches(
    queue,
    queued.map((q) => ({
      body: { type: "email", tenant_id: tenantId, email_id: q.id, month: q.month } satisfies TransactionalMessage,
      delaySeconds: q.delaySeconds ? queueDelay(q.delaySeconds) : undefined,
    })),
  );
}

/** How long a queued email may wait before the cron assumes its queue message was lost. */
const LOST_AFTER_MINUTES = 2;
const OUTBOX_BATCH = 500;

/**
 * The outbox pass of the cron: scheduled emails coming due within the minute (first), and queued
 * emails whose queue message looks lost (oldest first), are (re)queued. A duplicate queue message
 * is harmless: the consumer claims an email in the message log before sending it, once.
 */
export async function requeueDueEmails(db: Db, queue: Queue): Promise<number> {
  const due = await db.execute<{ id: string; tenant_id: string; scheduled_at: string | Date | null }>(sql`
    WITH due AS (
      SELECT id FROM emails WHERE status = 'scheduled' AND scheduled_at <= now() + interval '60 seconds'
      ORDER BY scheduled_at LIMIT ${OUTBOX_BATCH} FOR UPDATE SKIP LOCKED
    )
    UPDATE emails e SET status = 'queued', last_event = 'queued', enqueued_at = now(), updated_at = now()
    FROM due WHERE e.id = due.id
    RETURNING e.id, e.tenant_id, e.scheduled_at`);
  const lost = await db.execute<{ id: string; tenant_id: string; scheduled_at: string | Date | null }>(sql`
    WITH lost AS (
      SELECT id FROM emails WHERE status = 'queued' AND enqueued_at < now() - make_interval(mins => ${LOST_AFTER_MINUTES})
      ORDER BY enqueued_at LIMIT ${OUTBOX_BATCH} FOR UPDATE SKIP LOCKED
    )
    UPDATE emails e SET enqueued_at = now(), updated_at = now()
    FROM lost WHERE e.id = lost.id
    RETURNING e.id, e.tenant_id, NULL AS scheduled_at`);
  const byTenant = new Map<string, (QueuedEmail & { delaySeconds?: number })[]>();
  const now = Date.now();
  for (const row of [...due.rows, ...lost.rows]) {
    const delay = row.scheduled_at ? (new Date(row.scheduled_at).getTime() - now) / 1000 : 0;
    byTenant.set(row.tenant_id, [
      ...(byTenant.get(row.tenant_id) ?? []),
      { id: row.id, month: monthOfUuidv7(row.id), delaySeconds: delay > 0 ? delay : undefined },
    ]);
  }
  for (const [tenantId, queued] of byTenant) await enqueueEmails(queue, tenantId, queued);
  return due.rows.length + lost.rows.length;
}

/**
 * Emails left `sending` by a consumer that died are settled from the message log: a claim that was
 * never handed to a provider (`claimed`) is given back and the email queued again (the outbox sends
 * it); one that was (`sending`) becomes `unknown` (the provider may have accepted it, so it is never
 * re-sent: a duplicate is worse than a report that says we cannot know); an outcome already recorded
 * (the consumer died just before updating the email) is copied to the email.
 */
export async function sweepStaleTransactional(db: Db, staleSeconds: number): Promise<{ id: string; tenant_id: string; status: string }[]> {
  const swept = await db.execute<{ id: string; tenant_id: string; status: string }>(sql`
    WITH stale AS (
      SELECT id, tenant_id,
        date_trunc('month', to_timestamp(('x' || lpad(substr(replace(id::text, '-', ''), 1, 12), 16, '0'))::bit(64)::bigint / 1000.0) AT TIME ZONE 'UTC')::date AS month
      FROM emails
      WHERE status = 'sending' AND updated_at < now() - make_interval(secs => ${staleSeconds})
      ORDER BY updated_at LIMIT ${OUTBOX_BATCH}
    ), settled AS (
      UPDATE messages m SET updated_at = now(),
        status = CASE m.status WHEN 'claimed' THEN 'retrying' ELSE 'unknown' END,
        error = CASE m.status WHEN 'claimed' THEN m.error
          ELSE 'outcome_unknown: the sender stopped after handing the email to the provider; not re-sent to avoid a duplicate' END
      FROM stale s
      WHERE m.month = s.month AND m.id = s.id AND m.tenant_id = s.tenant_id AND m.status IN ('claimed', 'sending')
      RETURNING m.id, m.status
    )
    UPDATE emails e SET
      status = CASE coalesce(x.status, m.status) WHEN 'sent' THEN 'sent' WHEN 'skipped' THEN 'suppressed' WHEN 'queued' THEN 'queued'
        WHEN 'retrying' THEN 'queued' WHEN 'unknown' THEN 'unknown' WHEN 'replaying' THEN 'sending' ELSE 'failed' END,
      last_event = CASE coalesce(x.status, m.status) WHEN 'sent' THEN 'sent' WHEN 'skipped' THEN 'suppressed' WHEN 'queued' THEN 'queued'
        WHEN 'retrying' THEN 'queued' WHEN 'unknown' THEN 'unknown' WHEN 'replaying' THEN 'sending' ELSE 'failed' END,
      enqueued_at = now(), updated_at = now()
    FROM stale s JOIN messages m ON m.month = s.month AND m.id = s.id AND m.tenant_id = s.tenant_id
      LEFT JOIN settled x ON x.id = s.id
    WHERE e.id = s.id
    RETURNING e.id, e.tenant_id, e.status`);
  return swept.rows;
}

/** Idempotency keys older than the window are dropped by the cron. */
export async function pruneIdempotencyKeys(db: Db): Promise<void> {
  await db.execute(sql`DELETE FROM idempotency_keys WHERE created_at < now() - interval '25 hours'`);
}

/**
 * The cron's sweep of transactional emails: settles stale claims and publishes an `unknown` event
 * (an `email.unknown` webhook) for every email whose outcome can no longer be known.
 */
export async function settleStaleEmails(db: Db, events: Queue, staleSeconds: number): Promise<number> {
  const swept = await sweepStaleTransactional(db, staleSeconds);
  const now = new Date().toISOString();
  for (const [tenantId, rows] of groupBy(
    swept.filter((r) => r.status === "unknown"),
    (r) => r.tenant_id,
  )) {
    const error = "outcome_unknown: the sender stopped after handing the email to the provider";
    await publishEvents(
      events,
      tenantId,
      rows.map((r) => sendOutcomeEvent({ id: r.id, status: "unknown", error }, now)),
    );
  }
  return swept.length;
}
