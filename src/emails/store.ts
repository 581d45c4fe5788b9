import { and, asc, eq, sql } from "drizzle-orm";
import { events } from "../db/events-table";
import { emails } from "../db/schema";
import { HeraldError } from "../errors";
import { monthOfUuidv7 } from "../lib/ids";
import { findTenantRow } from "../lib/tenant-rows";
import type { Db } from "../services/db";

export function noSuchEmail(): HeraldError {
  return new HeraldError("not_found", "no such email");
}

export function findEmail(db: Db, tenantId: string, id: string) {
  return findTenantRow(db, emails, tenantId, id, noSuchEmail);
}

/** The email's first 100 events, oldest first. */
export function emailEvents(db: Db, tenantId: string, emailId: string) {
  return db
    .select({ type: events.type, occurredAt: events.occurredAt, url: events.url })
    .from(events)
    .where(and(eq(events.tenantId, tenantId), eq(events.messageId, emailId)))
    .orderBy(asc(events.occurredAt))
    .limit(100);
}

/**
 * Cancels the email if it is still scheduled, and skips its queued message, in one transaction.
 * Otherwise: not found, or a conflict naming the status it has.
 */
export async function cancelScheduledEmail(db: Db, tenantId: string, id: string): Promise<void> {
  const cancelled = await db.transaction(async (tx) => {
    const [row] = await tx
      .update(emails)
      .set({ status: "canceled", lastEvent: "canceled", updatedAt: sql`now()` })
      .where(and(eq(emails.tenantId, tenantId), eq(emails.id, id), eq(emails.status, "scheduled")))
      .returning({ id: emails.id });
    if (row) {
      await tx.execute(sql`
        UPDATE messages SET status = 'skipped', error = 'cancelled', updated_at = now()
        WHERE month = ${monthOfUuidv7(id)}::date AND id = ${id} AND status = 'queued'`);
    }
    return !!row;
  });
  if (cancelled) return;
  const [exists] = await db
    .select({ status: emails.status })
    .from(emails)
    .where(and(eq(emails.tenantId, tenantId), eq(emails.id, id)));
  if (!exists) throw noSuchEmail();
  throw new HeraldError("conflict", `only a scheduled email can be cancelled; this one is ${exists.status}`);
}
