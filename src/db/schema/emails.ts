import { sql } from "drizzle-orm";
import { boolean, date, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { createdAt, timestamps } from "./columns";
import { tenantId, tenantIndex, tenantRow } from "./tenants";

/**
 * queued: a transactional email accepted and waiting for its queue; claimed: reserved by a sender
 * that has not called a provider yet (safe to give back); sending: handed to a provider call, so it
 * may have been accepted; replaying: an ambiguous batch waiting to be replayed with its provider's
 * idempotency key; retrying: queued again (released before any provider call, or by retry-failed);
 * sent, failed, skipped and unknown (the provider may or may not have it) are terminal.
 */
export const MESSAGE_STATUSES = ["queued", "claimed", "sending", "replaying", "sent", "failed", "skipped", "unknown", "retrying"] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

export const EMAIL_STATUSES = ["scheduled", "queued", "sending", "sent", "failed", "suppressed", "canceled", "unknown"] as const;
export type EmailStatus = (typeof EMAIL_STATUSES)[number];

/**
 * A transactional email as accepted by POST /v1/emails: what to send. Its send state lives in the
 * shared message log (messages, same id); `status` here drives the outbox: a `queued` row whose
 * queue message was lost, or a `scheduled` row that has come due, is queued again by the cron.
 */
export const emails = pgTable(
  "emails",
  {
    ...tenantRow(),
    /** The provider asked for; null means the tenant's enabled providers by priority. */
    providerId: uuid("provider_id"),
    fromAddress: text("from_address").notNull(),
    to: text("to_addresses").array().notNull(),
    cc: text("cc_addresses").array().notNull().default(sql`'{}'::text[]`),
    bcc: text("bcc_addresses").array().notNull().default(sql`'{}'::text[]`),
    replyTo: text("reply_to").array().notNull().default(sql`'{}'::text[]`),
    subject: text("subject").notNull(),
    html: text("html"),
    text: text("text"),
    headers: jsonb("headers").$type<Record<string, string>>().notNull().default(sql`'{}'::jsonb`),
    tags: jsonb("tags").$type<{ name: string; value: string }[]>().notNull().default(sql`'[]'::jsonb`),
    trackOpens: boolean("track_opens").notNull().default(false),
    trackClicks: boolean("track_clicks").notNull().default(false),
    status: text("status").$type<EmailStatus>().notNull(),
    lastEvent: text("last_event").notNull(),
    scheduledAt: timestamp("scheduled_at", { withTimezone: true }),
    enqueuedAt: timestamp("enqueued_at", { withTimezone: true }),
    ...timestamps(),
  },
  (t) => [
    tenantIndex("emails", t),
    // The outbox scans: queued rows whose queue message may be lost, scheduled rows coming due.
    index("emails_queued_idx").on(t.enqueuedAt).where(sql`status = 'queued'`),
    index("emails_scheduled_idx").on(t.scheduledAt).where(sql`status = 'scheduled'`),
    // The stale-claim sweep: emails a consumer claimed and never settled.
    index("emails_sending_idx").on(t.updatedAt).where(sql`status = 'sending'`),
  ],
);

/** One Idempotency-Key per tenant, kept 24 hours: the request's hash and the response it got. */
export const idempotencyKeys = pgTable(
  "idempotency_keys",
  {
    tenantId: tenantId(),
    key: text("key").notNull(),
    requestHash: text("request_hash").notNull(),
    responseStatus: integer("response_status").notNull(),
    responseBody: jsonb("response_body").notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.key] }), index("idempotency_keys_created_idx").on(t.createdAt)],
);

/**
 * The exact request of a batch whose answer was ambiguous, kept for a provider that honours an
 * idempotency key (Resend: the same key and the same body within 24 h). Replaying it is the only
 * way such recipients are sent again; when it cannot be replayed in time, they become `unknown`.
 */
export const providerReplays = pgTable(
  "provider_replays",
  {
    id: uuid("id").notNull(),
    tenantId: tenantId(),
    providerId: uuid("provider_id").notNull(),
    campaignId: uuid("campaign_id"),
    /** The message partition month of every member. */
    month: date("month").notNull(),
    /** herald message ids in the request's order. */
    messageIds: uuid("message_ids").array().notNull(),
    idempotencyKey: text("idempotency_key").notNull(),
    body: text("body").notNull(),
    attempts: integer("attempts").notNull().default(1),
    createdAt: createdAt(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.id] }), index("provider_replays_expires_idx").on(t.expiresAt)],
);
