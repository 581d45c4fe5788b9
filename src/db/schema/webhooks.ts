import { sql } from "drizzle-orm";
import { boolean, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { timestamps } from "./columns";
import { tenantIndex, tenantRow } from "./tenants";

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
    ...tenantRow(),
    url: text("url").notNull(),
    description: text("description"),
    /** herald event types delivered to this endpoint ("email.delivered", …); empty means all. */
    eventTypes: text("event_types").array().notNull().default(sql`'{}'::text[]`),
    secret: text("secret").notNull(),
    enabled: boolean("enabled").notNull().default(true),
    ...timestamps(),
    signatureScheme: text("signature_scheme").$type<WebhookSignatureScheme>().notNull().default("herald"),
    /**
     * The secret a rotation replaced, sealed like `secret`, and when it stops signing: until then a
     * "standard" endpoint's deliveries carry a signature under each, so receivers can switch over
     * without losing a request. Null outside a rotation's overlap (and always for "herald").
     */
    previousSecret: text("previous_secret"),
    previousSecretExpiresAt: timestamp("previous_secret_expires_at", { withTimezone: true }),
  },
  (t) => [tenantIndex("webhook_endpoints", t)],
);

export const WEBHOOK_DELIVERY_STATUSES = ["pending", "succeeded", "failed"] as const;
export type WebhookDeliveryStatus = (typeof WEBHOOK_DELIVERY_STATUSES)[number];

/** The delivery log: one row per (endpoint, event), updated by every attempt. */
export const webhookDeliveries = pgTable(
  "webhook_deliveries",
  {
    ...tenantRow(),
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
    ...timestamps(),
    /** The coalescing slot an open or click delivery took (webhooks/outbound/dispatch.ts); null otherwise. */
    coalesceKey: text("coalesce_key"),
  },
  (t) => [
    index("webhook_deliveries_endpoint_idx").on(t.tenantId, t.endpointId, t.id),
    uniqueIndex("webhook_deliveries_event_uq").on(t.endpointId, t.eventId),
    uniqueIndex("webhook_deliveries_coalesce_uq").on(t.endpointId, t.coalesceKey).where(sql`"coalesce_key" IS NOT NULL`),
  ],
);
