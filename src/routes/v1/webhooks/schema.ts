import { z } from "@hono/zod-openapi";
import { WEBHOOK_DELIVERY_STATUSES, WEBHOOK_SIGNATURE_SCHEMES, type webhookDeliveries, type webhookEndpoints } from "../../../db/schema";
import { WEBHOOK_EVENT_TYPES } from "../../../events/message";
import { HeraldError } from "../../../errors";
import { isLoopback, urlProblem, type DestinationPolicy } from "../../../lib/destination";
import { PageQuery, Timestamp } from "../../../lib/schemas";
import { ROTATION_OVERLAP_SECONDS } from "../../../webhooks/outbound/headers";

type EndpointRow = typeof webhookEndpoints.$inferSelect;
type DeliveryRow = typeof webhookDeliveries.$inferSelect;

const EVENT_TYPES = WEBHOOK_EVENT_TYPES as [string, ...string[]];

export const MAX_URL_LENGTH = 2048;

/**
 * https, so payloads and signatures never cross the network in clear; plain http only to the
 * loopback host, for a receiver on the developer's own machine. Whether the host may be reached at
 * all depends on the deployment: see checkWebhookUrl.
 */
function isWebhookUrl(value: string): boolean {
  try {
    const url = new URL(value);
    if (url.hostname === "" || url.username !== "" || url.password !== "") return false;
    return url.protocol === "https:" || (url.protocol === "http:" && isLoopback(url.hostname));
  } catch {
    return false;
  }
}

/**
 * A 422 naming body.url when herald refuses to deliver there (a private, loopback or metadata
 * address, src/lib/destination.ts). The consumer checks again before every delivery.
 */
export function checkWebhookUrl(url: string, policy: DestinationPolicy): void {
  const problem = urlProblem(url, policy);
  if (problem) throw new HeraldError("validation_failed", "invalid body.url", { errors: [{ field: "body.url", message: problem }] });
}

const Url = z
  .string()
  .trim()
  .min(1)
  .max(MAX_URL_LENGTH)
  .refine(isWebhookUrl, "must be an absolute https URL (http only for localhost), without credentials")
  .openapi({ format: "uri", example: "https://example.com/hooks/herald" });

// Duplicates are dropped when stored, so no length limit is needed beyond the body's.
const EventTypes = z.array(z.enum(EVENT_TYPES)).openapi({
  description: "The event types delivered to this endpoint; empty (or absent) means every type",
  example: ["email.delivered", "email.bounced"],
});

const Description = z.string().trim().max(500);

const SignatureScheme = z.enum(WEBHOOK_SIGNATURE_SCHEMES).openapi({
  description:
    // biome-ignore lint/suspicious/noTemplateCurlyInString: literal ${…}: the parts of the signed string
    'How deliveries are signed. "herald": Herald-Webhook-Id, -Timestamp and -Signature (v1=<hex HMAC of `${timestamp}.${body}`>). ' +
    '"standard": the Standard Webhooks specification: webhook-id, webhook-timestamp and webhook-signature ' +
    // biome-ignore lint/suspicious/noTemplateCurlyInString: literal ${…}: the parts of the signed string
    "(v1,<base64 HMAC of `${id}.${timestamp}.${body}`>), verifiable with any Standard Webhooks library; after a rotation " +
    `the replaced secret keeps signing for ${ROTATION_OVERLAP_SECONDS / 3600} hours, so webhook-signature then carries two signatures. Changing it needs no new secret.`,
  example: "standard",
});

export const WebhookEndpointSchema = z
  .object({
    id: z.string().uuid(),
    url: z.string(),
    description: z.string().nullable(),
    event_types: z
      .array(z.string())
      .openapi({ description: "Empty means every event type", example: ["email.delivered", "email.bounced"] }),
    enabled: z.boolean(),
    signature_scheme: SignatureScheme,
    previous_secret_expires_at: Timestamp.nullable().openapi({
      description: 'Until when the secret replaced by the last rotation still signs ("standard" endpoints only); null when none does',
    }),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi("WebhookEndpoint");

export const WebhookEndpointWithSecretSchema = WebhookEndpointSchema.extend({
  secret: z.string().openapi({
    description: "The signing secret (whsec_ + base64 of 32 bytes). It is shown this once and never again.",
    example: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw/tAA0cQ0vXs=",
  }),
}).openapi("WebhookEndpointWithSecret");

export const CreateWebhookBody = z
  .object({
    url: Url,
    event_types: EventTypes.default([]),
    description: Description.nullable().optional(),
    enabled: z.boolean().default(true),
    // The default stays "herald" so integrations that create endpoints and check the documented
    // Herald-Webhook-* headers keep working; new integrations should ask for "standard".
    signature_scheme: SignatureScheme.default("herald"),
  })
  .strict()
  .openapi("CreateWebhookEndpoint");

export const UpdateWebhookBody = z
  .object({
    url: Url.optional(),
    event_types: EventTypes.optional(),
    description: Description.nullable().optional(),
    enabled: z.boolean().optional(),
    signature_scheme: SignatureScheme.optional(),
  })
  .strict()
  .refine((b) => Object.keys(b).length > 0, "give at least one field to change")
  .openapi("UpdateWebhookEndpoint");

export const WebhookDeliverySummarySchema = z
  .object({
    id: z.string().uuid().openapi({
      description: 'Sent as Herald-Webhook-Id (webhook-id for "standard" endpoints), the same on every attempt and redelivery',
    }),
    endpoint_id: z.string().uuid(),
    event_id: z.string().uuid(),
    event_type: z.string().openapi({ example: "email.delivered" }),
    status: z.enum(WEBHOOK_DELIVERY_STATUSES).openapi({
      description:
        "pending: queued or between retries; succeeded: the endpoint answered 2xx; failed: retries ran out (or the endpoint was disabled)",
    }),
    attempts: z.number().int().openapi({ description: "HTTP requests made so far, redeliveries included" }),
    response_status: z.number().int().nullable().openapi({ description: "The HTTP status of the last attempt; null if it got no answer" }),
    error: z.string().nullable().openapi({ description: "Why the last attempt failed" }),
    delivered_at: Timestamp.nullable(),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi("WebhookDeliverySummary");

export const WebhookDeliverySchema = WebhookDeliverySummarySchema.extend({
  payload: z.record(z.string(), z.unknown()).openapi({
    description: "The JSON body sent: {id, type, created_at, data}",
    example: {
      id: "0190b1b2-…",
      type: "email.delivered",
      created_at: "2026-11-22T10:00:00.000Z",
      data: { message_id: "…", campaign_id: "…", email: "ada@example.com" },
    },
  }),
}).openapi("WebhookDelivery");

export const DeliveriesQuery = PageQuery.extend({
  status: z
    .enum(WEBHOOK_DELIVERY_STATUSES)
    .optional()
    .openapi({ param: { name: "status", in: "query" } }),
});

export const DeliveryParams = z.object({
  id: z.string().openapi({ param: { name: "id", in: "path" } }),
  delivery_id: z.string().openapi({ param: { name: "delivery_id", in: "path" } }),
});

/** Each type once, in the order given. */
export function uniqueTypes(types: readonly string[]): string[] {
  return [...new Set(types)];
}

export function toEndpointDto(row: EndpointRow) {
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    event_types: row.eventTypes,
    enabled: row.enabled,
    signature_scheme: row.signatureScheme,
    previous_secret_expires_at: previousSecretExpiresAt(row),
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

/** Shown only while it matters: a "herald" endpoint never signs with a replaced secret. */
function previousSecretExpiresAt(row: EndpointRow, now = new Date()): string | null {
  const at = row.previousSecretExpiresAt;
  return row.signatureScheme === "standard" && at && at > now ? at.toISOString() : null;
}

export function toDeliverySummaryDto(row: DeliveryRow) {
  return {
    id: row.id,
    endpoint_id: row.endpointId,
    event_id: row.eventId,
    event_type: row.eventType,
    status: row.status,
    attempts: row.attempts,
    response_status: row.responseStatus,
    error: row.error,
    delivered_at: row.deliveredAt?.toISOString() ?? null,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

export function toDeliveryDto(row: DeliveryRow) {
  return { ...toDeliverySummaryDto(row), payload: row.payload };
}
