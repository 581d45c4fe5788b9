import { sql } from "drizzle-orm";
import { boolean, integer, jsonb, pgTable, text } from "drizzle-orm/pg-core";
import { timestamps } from "./columns";
import { tenantIndex, tenantRow } from "./tenants";

export const PROVIDER_KINDS = ["smtp", "ses", "sendgrid", "mailgun", "postmark", "resend", "sink"] as const;
export type ProviderKind = (typeof PROVIDER_KINDS)[number];

export const providers = pgTable(
  "providers",
  {
    ...tenantRow(),
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
    ...timestamps(),
  },
  (t) => [tenantIndex("providers", t)],
);
