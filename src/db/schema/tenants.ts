import { sql } from "drizzle-orm";
import { type AnyPgColumn, index, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { createdAt, timestamps } from "./columns";

export const tenants = pgTable("tenants", {
  id: uuid("id").primaryKey(),
  name: text("name").notNull(),
  plan: text("plan").notNull().default("free"),
  settings: jsonb("settings").$type<Record<string, unknown>>().notNull().default(sql`'{}'::jsonb`),
  ...timestamps(),
});

/** A tenant-owned row's tenant: deleting the tenant deletes the row. */
export const tenantId = () =>
  uuid("tenant_id")
    .notNull()
    .references(() => tenants.id, { onDelete: "cascade" });

/** The key of most tenant-owned tables: their own id, and their tenant. */
export const tenantRow = () => ({ id: uuid("id").primaryKey(), tenantId: tenantId() });

/** The index every tenantRow table has: its rows by tenant, then id (keyset pages of a tenant's rows). */
export const tenantIndex = (table: string, t: { tenantId: AnyPgColumn; id: AnyPgColumn }) =>
  index(`${table}_tenant_id_idx`).on(t.tenantId, t.id);

/** A tenant's members; they act through JWTs whose `sub` is their id. */
export const users = pgTable(
  "users",
  {
    ...tenantRow(),
    email: text("email").notNull(),
    name: text("name"),
    role: text("role").notNull().default("member"),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("users_tenant_email_uq").on(t.tenantId, t.email), tenantIndex("users", t)],
);

export const apiKeys = pgTable(
  "api_keys",
  {
    ...tenantRow(),
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
  (t) => [uniqueIndex("api_keys_key_hash_uq").on(t.keyHash), tenantIndex("api_keys", t)],
);

export type Tenant = typeof tenants.$inferSelect;
export type User = typeof users.$inferSelect;
export type ApiKey = typeof apiKeys.$inferSelect;
