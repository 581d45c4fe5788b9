import { date, integer, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import type { MessageStatus } from "./schema";

/**
 * One row per recipient send, range-partitioned by `month`. drizzle-kit cannot declare partitioned
 * tables, so this definition types the queries while migrations/0002_messages.sql creates the table,
 * its partitions and indexes. For campaign mail, the row is also the recipient's claim: the unique
 * (month, campaign_id, contact_id) index makes a second send of the same recipient impossible.
 */
export const messages = pgTable("messages", {
  month: date("month").notNull(),
  id: uuid("id").notNull(),
  tenantId: uuid("tenant_id").notNull(),
  campaignId: uuid("campaign_id"),
  contactId: uuid("contact_id"),
  email: text("email").notNull(),
  status: text("status").$type<MessageStatus>().notNull(),
  providerId: uuid("provider_id"),
  providerMessageId: text("provider_message_id"),
  error: text("error"),
  attempts: integer("attempts").notNull().default(1),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  sentAt: timestamp("sent_at", { withTimezone: true }),
  /** The queue message that holds a `claimed` row: only its own redelivery may take the claim over. */
  claimToken: text("claim_token"),
});
