import { sql } from "drizzle-orm";
import { index, jsonb, pgTable, primaryKey, text, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { createdAt, timestamps } from "./columns";
import { tenantId, tenantIndex, tenantRow } from "./tenants";

export const CONTACT_STATUSES = ["active", "unsubscribed", "bounced", "complained"] as const;
export type ContactStatus = (typeof CONTACT_STATUSES)[number];

export const contacts = pgTable(
  "contacts",
  {
    ...tenantRow(),
    /** Trimmed and lower-cased; unique per tenant. */
    email: text("email").notNull(),
    name: text("name"),
    attributes: jsonb("attributes").$type<Record<string, unknown>>().notNull().default(sql`'{}'::jsonb`),
    status: text("status").$type<ContactStatus>().notNull().default("active"),
    ...timestamps(),
  },
  (t) => [uniqueIndex("contacts_tenant_email_uq").on(t.tenantId, t.email), tenantIndex("contacts", t)],
);

export const lists = pgTable(
  "lists",
  {
    ...tenantRow(),
    name: text("name").notNull(),
    description: text("description"),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("lists_tenant_name_uq").on(t.tenantId, t.name), tenantIndex("lists", t)],
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
    tenantId: tenantId(),
    email: text("email").notNull(),
    reason: text("reason").$type<SuppressionReason>().notNull(),
    note: text("note"),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.email] })],
);
