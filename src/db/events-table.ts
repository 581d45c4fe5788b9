import { date, jsonb, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";

export const EVENT_TYPES = [
  "sent",
  "delivered",
  "bounced",
  "complained",
  "opened",
  "clicked",
  "unsubscribed",
  "failed",
  "unknown",
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/**
 * Delivery and engagement events, range-partitioned by `month` (of occurred_at). As with messages,
 * drizzle-kit cannot declare the partitioned table, so migrations/0005_events.sql creates it and this
 * definition types the queries.
 */
export const events = pgTable("events", {
  month: date("month").notNull(),
  id: uuid("id").notNull(),
  tenantId: uuid("tenant_id").notNull(),
  type: text("type").$type<EventType>().notNull(),
  messageId: uuid("message_id"),
  campaignId: uuid("campaign_id"),
  email: text("email"),
  /** tracking | unsubscribe | send | the provider kind of an inbound webhook */
  source: text("source").notNull(),
  providerEventId: text("provider_event_id"),
  url: text("url"),
  data: jsonb("data").$type<Record<string, unknown>>().notNull(),
  occurredAt: timestamp("occurred_at", { withTimezone: true }).notNull(),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});
