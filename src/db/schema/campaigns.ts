import { sql } from "drizzle-orm";
import { boolean, date, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { timestamps, updatedAt } from "./columns";
import { templates } from "./templates";
import { tenantId, tenantIndex, tenantRow } from "./tenants";

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
    ...tenantRow(),
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
    ...timestamps(),
  },
  (t) => [
    tenantIndex("campaigns", t),
    // The cron scan for due campaigns is the one cross-tenant query; it reads only this partial index.
    index("campaigns_due_idx").on(t.scheduledAt).where(sql`state = 'scheduled'`),
    // The cron's progress repair looks at running campaigns only.
    index("campaigns_sending_idx").on(t.updatedAt).where(sql`state = 'sending'`),
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
    tenantId: tenantId(),
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
    updatedAt: updatedAt(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.campaignId, t.seq] })],
);
