import { and, eq, sql } from "drizzle-orm";
import { emails, idempotencyKeys, providers } from "../db/schema";
import { messages } from "../db/messages-table";
import { HeraldError, type FieldError } from "../errors";
import { monthOfUuidv7, uuidv7 } from "../lib/ids";
import type { Db } from "../services/db";
import { recipientKey, suppressedAmong } from "../suppressions/store";
import type { EmailBody } from "./body";

/** A transactional email ready for the queue. */
export interface QueuedEmail {
  id: string;
  month: string;
}

export interface Idempotency {
  key: string;
  /** SHA-256 of the request (method, path and body), to tell a replay from a different request. */
  hash: string;
}

export type AcceptResult =
  | { replayed: false; status: number; body: unknown; queued: QueuedEmail[] }
  | { replayed: true; status: number; body: unknown };

/** How long an Idempotency-Key is remembered. */
export const IDEMPOTENCY_HOURS = 24;

/**
 * Accepts emails in one transaction: the Idempotency-Key (when given), one row per email with
 * what to send, and its entry in the shared message log (`queued`, or `skipped` when every
 * recipient is suppressed). Nothing is queued here: the caller queues after the commit, and the
 * cron queues whatever stays `queued` for too long (a lost queue message), so an accepted email
 * is never lost. With a key seen before (within 24 h) nothing is written and the first response
 * comes back; with a different request under the same key, 409.
 */
export async function acceptEmails(
  db: Db,
  tenantId: string,
  items: { body: EmailBody; index: number }[],
  respond: (ids: string[]) => { status: number; body: unknown },
  idempotency?: Idempotency,
): Promise<AcceptResult> {
  const ids = items.map(() => uuidv7());
  const response = respond(ids);
  return db.transaction(async (tx) => {
    if (idempotency) {
      const claimed = await tx.execute(sql`
        INSERT INTO idempotency_keys (tenant_id, key, request_hash, response_status, response_body)
        VALUES (${tenantId}, ${idempotency.key}, ${idempotency.hash}, ${response.status}, ${JSON.stringify(response.body)}::jsonb)
        ON CONFLICT (tenant_id, key) DO UPDATE SET
          request_hash = EXCLUDED.request_hash, response_status = EXCLUDED.response_status,
          response_body = EXCLUDED.response_body, created_at = now()
        WHERE idempotency_keys.created_at < now() - make_interval(hours => ${IDEMPOTENCY_HOURS})
        RETURNING 1`);
      if (claimed.rows.length === 0) {
        // Taken within the window; a concurrent first request has committed by now (the insert waited on it).
        const [first] = await tx
          .select()
          .from(idempotencyKeys)
          .where(and(eq(idempotencyKeys.tenantId, tenantId), eq(idempotencyKeys.key, idempotency.key)));
        if (!first)
          throw new HeraldError("conflict", "this Idempotency-Key is in use by a request still in progress", {
            extensions: { name: "concurrent_idempotent_requests" },
          });
        if (first.requestHash !== idempotency.hash) {
          throw new HeraldError("conflict", "this Idempotency-Key was used with a different request in the last 24 hours", {
            extensions: { name: "invalid_idempotent_request" },
          });
        }
        return { replayed: true as const, status: first.responseStatus, body: first.responseBody };
      }
    }

    await checkProviders(tx, tenantId, items);
    const recipients = items.map(({ body }) => [...body.to, ...(body.cc ?? []), ...(body.bcc ?? [])].map(recipientKey));
    const suppressed = await suppressedAmong(tx, tenantId, recipients.flat());
    const now = Date.now();
    const rows = items.map(({ body }, i) => {
      const allSuppressed = recipients[i]!.every((r) => suppressed.has(r));
      const scheduled = body.scheduled_at !== undefined && Date.parse(body.scheduled_at) > now + 1000;
      const status = allSuppressed ? ("suppressed" as const) : scheduled ? ("scheduled" as const) : ("queued" as const);
      return { body, id: ids[i]!, status };
    });
    await tx.insert(emails).values(
      rows.map(({ body, id, status }) => ({
        id,
        tenantId,
        providerId: body.provider_id?.toLowerCase() ?? null,
        fromAddress: body.from,
        to: body.to,
        cc: body.cc ?? [],
        bcc: body.bcc ?? [],
        replyTo: body.reply_to ?? [],
        subject: body.subject,
        html: body.html ?? null,
        text: body.text ?? null,
        headers: body.headers ?? {},
        tags: body.tags ?? [],
        trackOpens: body.track_opens ?? false,
        trackClicks: body.track_clicks ?? false,
        status,
        lastEvent: status,
        scheduledAt: body.scheduled_at ? new Date(body.scheduled_at) : null,
        enqueuedAt: status === "queued" ? new Date() : null,
      })),
    );
    await tx.insert(messages).values(
      rows.map(({ body, id, status }) => ({
        month: monthOfUuidv7(id),
        id,
        tenantId,
        email: recipientKey(body.to[0]!),
        status: status === "suppressed" ? ("skipped" as const) : ("queued" as const),
        providerId: body.provider_id?.toLowerCase() ?? null,
        error: status === "suppressed" ? "every recipient is suppressed" : null,
        attempts: 0,
      })),
    );
    const queued = rows.filter((r) => r.status === "queued").map((r) => ({ id: r.id, month: monthOfUuidv7(r.id) }));
    return { replayed: false as const, status: response.status, body: response.body, queued };
  });
}

/** A named provider must be the tenant's; without one, the tenant needs at least one enabled provider. */
async function checkProviders(db: Db, tenantId: string, items: { body: EmailBody; index: number }[]) {
  const own = await db.select({ id: providers.id, enabled: providers.enabled }).from(providers).where(eq(providers.tenantId, tenantId));
  const errors: FieldError[] = [];
  for (const { body, index } of items) {
    const field = (name: string) => (items.length === 1 && index === -1 ? `body.${name}` : `body[${index}].${name}`);
    const named = body.provider_id ? own.find((p) => p.id === body.provider_id!.toLowerCase()) : undefined;
    if (body.provider_id && !named) errors.push({ field: field("provider_id"), message: "no such provider" });
    else if (named && !named.enabled) errors.push({ field: field("provider_id"), message: "this provider is disabled" });
    else if (!body.provider_id && !own.some((p) => p.enabled))
      errors.push({ field: field("provider_id"), message: "no enabled provider is configured; add one at /v1/providers" });
  }
  if (errors.length > 0) throw new HeraldError("validation_failed", `invalid ${errors.map((e) => e.field).join(", ")}`, { errors });
}
