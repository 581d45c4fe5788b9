import { sql } from "drizzle-orm";
import { boolean, date, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";

const createdAt = () => timestamp("created_at", { withTimezone: true }).notNull().defaultNow();

export const tenants = pgTable("tenants", {
  id: uuid("id").primaryKey(),
  name: text("name").notNull(),
  plan: text("plan").notNull().default("free"),
  settings: jsonb("settings").$type<Record<string, unknown>>().notNull().default(sql`'{}'::jsonb`),
  createdAt: createdAt(),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});

/** A tenant's members; they act through JWTs whose `sub` is their id. */
export const users = pgTable(
  "users",
  {
    id: uuid("id").primaryKey(),
    tenantId: uuid("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    email: text("email").notNull(),
    name: text("name"),
    role: text("role").notNull().default("member"),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("users_tenant_email_uq").on(t.tenantId, t.email), index("users_tenant_id_idx").on(t.tenantId, t.id)],
);

export const apiKeys = pgTable(
  "api_keys",
  {
    id: uuid("id").primaryKey(),
    tenantId: uuid("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    /** The first characters of the key, shown in listings so people can tell keys apart. */
    prefix: text("prefix").notNull(),
    /** SHA-256 of the whole key; the key itself is never stored. */
    keyHash: text("key_hash").notNull(),
    scopes: text("scopes").array().notNull(),
    createdBy: text("created_by"),
    createdAt: createdAt(),
    expiresAt: timestamp("expires_at", { withTimezone: true }),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true }),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
  },
  (t) => [uniqueIndex("api_keys_key_hash_uq").on(t.keyHash), index("api_keys_tenant_id_idx").on(t.tenantId, t.id)],
);

export type Tenant = typeof tenants.$inferSelect;
export type User = typeof users.$inferSelect;
export type ApiKey = typeof apiKeys.$inferSelect;

export const CONTACT_STATUSES = ["active", "unsubscribed", "bounced", "complained"] as const;
export type ContactStatus = (typeof CONTACT_STATUSES)[number];

export const contacts = pgTable(
  "contacts",
  {
    id: uuid("id").primaryKey(),
    tenantId: uuid("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    /** Trimmed and lower-cased; unique per tenant. */
    email: text("email").notNull(),
    name: text("name"),
    attributes: jsonb("attributes").$type<Record<string, unknown>>().notNull().default(sql`'{}'::jsonb`),
    status: text("status").$type<ContactStatus>().notNull().default("active"),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex("contacts_tenant_email_uq").on(t.tenantId, t.email), index("contacts_tenant_id_idx").on(t.tenantId, t.id)],
);

export const lists = pgTable(
  "lists",
  {
    id: uuid("id").primaryKey(),
    tenantId: uuid("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    description: text("description"),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("lists_tenant_name_uq").on(t.tenantId, t.name), index("lists_tenant_id_idx").on(t.tenantId, t.id)],
);

export const listMembers = pgTable(
  "list_members",
  {
    tenantId: uuid("tenant_id").notNull(),
    listId: uuid("list_id")
      .notNull()
      .references(() => lists.id, { onDelete: "cascade" }),
    contactId: uuid("contact_id")
      .notNull()
      .references(() => contacts.id, { onDelete: "cascade" }),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.listId, t.contactId] }),
    index("list_members_tenant_contact_idx").on(t.tenantId, t.contactId),
  ],
);

export const SUPPRESSION_REASONS = ["bounce", "complaint", "unsubscribe", "manual"] as const;
export type SuppressionReason = (typeof SUPPRESSION_REASONS)[number];

/** Addresses a tenant must never mail again, whichever provider sends. */
export const suppressions = pgTable(
  "suppressions",
  {
    tenantId: uuid("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    email: text("email").notNull(),
    reason: text("reason").$type<SuppressionReason>().notNull(),
    note: text("note"),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.email] })],
);

export const templates = pgTable(
  "templates",
  {
    id: uuid("id").primaryKey(),
    tenantId: uuid("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    subject: text("subject").notNull(),
    html: text("html"),
    text: text("text"),
    /** Bumped on every update; campaigns snapshot the version they launch with. */
    version: integer("version").notNull().default(1),
    variables: text("variables").array().notNull().default(sql`'{}'::text[]`),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("templates_tenant_id_idx").on(t.tenantId, t.id)],
);

export const PROVIDER_KINDS = ["smtp", "ses", "sendgrid", "mailgun", "postmark", "resend", "sink"] as const;
export type ProviderKind = (typeof PROVIDER_KINDS)[number];

export const providers = pgTable(
  "providers",
  {
    id: uuid("id").primaryKey(),
    tenantId: uuid("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    kind: text("kind").$type<ProviderKind>().notNull(),
    /** Non-secret settings (host, port, region, endpoint, domain, …). */
    config: jsonb("config").$type<Record<string, unknown>>().notNull().default(sql`'{}'::jsonb`),
    /** Secret settings as AES-GCM ciphertext under ENCRYPTION_KEY; never returned by the API. */
    credentials: text("credentials"),
    ratePerSecond: integer("rate_per_second").notNull().default(10),
    dailyQuota: integer("daily_quota").notNull().default(0),
    priority: integer("priority").notNull().default(100),
    enabled: boolean("enabled").notNull().default(true),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("providers_tenant_id_idx").on(t.tenantId, t.id)],
);

/**
 * The states a campaign row can hold. Their transitions are data in src/campaigns/machine.ts; the
 * list lives here, with the column that stores it, because the schema may not import the domain.
 */
export const CAMPAIGN_STATES = ["draft", "scheduled", "sending", "paused", "completed", "cancelled", "failed"] as const;
export type CampaignState = (typeof CAMPAIGN_STATES)[number];

export interface TemplateSnapshot {
  id: string;
  version: number;
  subject: string;
  html: string | null;
  text: string | null;
}

export const campaigns = pgTable(
  "campaigns",
  {
    id: uuid("id").primaryKey(),
    tenantId: uuid("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    templateId: uuid("template_id").references(() => templates.id, { onDelete: "set null" }),
    listIds: uuid("list_ids").array().notNull(),
    fromAddress: text("from_address").notNull(),
    replyTo: text("reply_to"),
    /** Ordered failover policy: the first usable provider sends. */
    providerIds: uuid("provider_ids").array().notNull(),
    /** Campaign-level merge data, available to the template as {{campaign.*}}. */
    data: jsonb("data").$type<Record<string, unknown>>().notNull().default(sql`'{}'::jsonb`),
    state: text("state").$type<CampaignState>().notNull().default("draft"),
    scheduledAt: timestamp("scheduled_at", { withTimezone: true }),
    startedAt: timestamp("started_at", { withTimezone: true }),
    completedAt: timestamp("completed_at", { withTimezone: true }),
    /** The partition month of this campaign's messages (first day of the launch month, UTC). */
    messageMonth: date("message_month"),
    templateSnapshot: jsonb("template_snapshot").$type<TemplateSnapshot>(),
    /** Open pixel and click rewriting for this campaign's mail. */
    trackOpens: boolean("track_opens").notNull().default(false),
    trackClicks: boolean("track_clicks").notNull().default(false),
    total: integer("total").notNull().default(0),
    sent: integer("sent").notNull().default(0),
    failed: integer("failed").notNull().default(0),
    skipped: integer("skipped").notNull().default(0),
    /** Recipients whose batch may or may not have reached the provider; never re-sent automatically. */
    unknown: integer("unknown").notNull().default(0),
    /** Failed attempts of the cron to launch this scheduled campaign; it fails after a few. */
    launchAttempts: integer("launch_attempts").notNull().default(0),
    /** Why the campaign failed (or is blocked), in words for the user. */
    failureReason: text("failure_reason"),
    /** Since when no provider of the policy could send; the campaign fails after a bounded wait. */
    blockedSince: timestamp("blocked_since", { withTimezone: true }),
    /** Some of its messages wait (a rate limit, a daily quota) until about then: the cron's repair leaves it alone meanwhile. */
    waitingUntil: timestamp("waiting_until", { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index("campaigns_tenant_id_idx").on(t.tenantId, t.id),
    // The cron scan for due campaigns is the one cross-tenant query; it reads only this partial index.
    index("campaigns_due_idx").on(t.scheduledAt).where(sql`state = 'scheduled'`),
    // The cron's progress repair looks at running campaigns only.
    index("campaigns_sending_idx").on(t.updatedAt).where(sql`state = 'sending'`),
  ],
);

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
    id: uuid("id").primaryKey(),
    tenantId: uuid("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
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
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index("emails_tenant_id_idx").on(t.tenantId, t.id),
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
    tenantId: uuid("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    key: text("key").notNull(),
    requestHash: text("request_hash").notNull(),
    responseStatus: integer("response_status").notNull(),
    responseBody: jsonb("response_body").notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.key] }), index("idempotency_keys_created_idx").on(t.createdAt)],
);

/**
 * How an endpoint's deliveries are signed: "herald" (Herald-Webhook-* headers, the original scheme and
 * the default, so endpoints created before the choice existed keep verifying) or "standard" (the
 * Standard Webhooks specification's webhook-* headers). See src/webhooks/outbound/headers.ts.
 */
export const WEBHOOK_SIGNATURE_SCHEMES = ["herald", "standard"] as const;
export type WebhookSignatureScheme = (typeof WEBHOOK_SIGNATURE_SCHEMES)[number];

/** A tenant's outbound webhook endpoint. The signing secret is AES-GCM ciphertext under ENCRYPTION_KEY. */
export const webhookEndpoints = pgTable(
  "webhook_endpoints",
  {
    id: uuid("id").primaryKey(),
    tenantId: uuid("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    url: text("url").notNull(),
    description: text("description"),
    /** herald event types delivered to this endpoint ("email.delivered", …); empty means all. */
    eventTypes: text("event_types").array().notNull().default(sql`'{}'::text[]`),
    secret: text("secret").notNull(),
    enabled: boolean("enabled").notNull().default(true),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
    signatureScheme: text("signature_scheme").$type<WebhookSignatureScheme>().notNull().default("herald"),
    /**
     * The secret a rotation replaced, sealed like `secret`, and when it stops signing: until then a
     * "standard" endpoint's deliveries carry a signature under each, so receivers can switch over
     * without losing a request. Null outside a rotation's overlap (and always for "herald").
     */
    previousSecret: text("previous_secret"),
    previousSecretExpiresAt: timestamp("previous_secret_expires_at", { withTimezone: true }),
  },
  (t) => [index("webhook_endpoints_tenant_id_idx").on(t.tenantId, t.id)],
);

export const WEBHOOK_DELIVERY_STATUSES = ["pending", "succeeded", "failed"] as const;
export type WebhookDeliveryStatus = (typeof WEBHOOK_DELIVERY_STATUSES)[number];

/** The delivery log: one row per (endpoint, event), updated by every attempt. */
export const webhookDeliveries = pgTable(
  "webhook_deliveries",
  {
    id: uuid("id").primaryKey(),
    tenantId: uuid("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    endpointId: uuid("endpoint_id")
      .notNull()
      .references(() => webhookEndpoints.id, { onDelete: "cascade" }),
    eventId: uuid("event_id").notNull(),
    eventType: text("event_type").notNull(),
    payload: jsonb("payload").$type<Record<string, unknown>>().notNull(),
    status: text("status").$type<WebhookDeliveryStatus>().notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    responseStatus: integer("response_status"),
    error: text("error"),
    deliveredAt: timestamp("delivered_at", { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
    /** The coalescing slot an open or click delivery took (webhooks/outbound/dispatch.ts); null otherwise. */
    coalesceKey: text("coalesce_key"),
  },
  (t) => [
    index("webhook_deliveries_endpoint_idx").on(t.tenantId, t.endpointId, t.id),
    uniqueIndex("webhook_deliveries_event_uq").on(t.endpointId, t.eventId),
    uniqueIndex("webhook_deliveries_coalesce_uq").on(t.endpointId, t.coalesceKey).where(sql`"coalesce_key" IS NOT NULL`),
  ],
);

export const PAGE_STATES = ["planned", "expanded", "failed"] as const;
export type PageState = (typeof PAGE_STATES)[number];

/**
 * A campaign's audience as fan-out planned it: one row per range of contact ids. A range is
 * expanded into send messages once (`expanded`); one that cannot be expanded after its retries is
 * `failed` with the reason, and only its members count as failed. `vanished` (members deleted
 * between plan and expansion) is set, never added to, so redelivery cannot count it twice.
 */
export const campaignPages = pgTable(
  "campaign_pages",
  {
    tenantId: uuid("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    campaignId: uuid("campaign_id")
      .notNull()
      .references(() => campaigns.id, { onDelete: "cascade" }),
    seq: integer("seq").notNull(),
    /** Keyset bounds: contact ids in (after, until]; after null means from the start. */
    after: uuid("after"),
    until: uuid("until").notNull(),
    expected: integer("expected").notNull(),
    vanished: integer("vanished").notNull().default(0),
    state: text("state").$type<PageState>().notNull().default("planned"),
    attempts: integer("attempts").notNull().default(0),
    error: text("error"),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.campaignId, t.seq] })],
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
    tenantId: uuid("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
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
