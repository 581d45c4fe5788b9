import { and, eq, sql } from "drizzle-orm";
import { z } from "zod";
import { webhookEndpoints } from "../../db/schema";
import { webhookEventType, type StoredEvent } from "../../events/message";
import { uuidv7 } from "../../lib/ids";
import { sendInBatches } from "../../lib/queues";
import { pgArray } from "../../lib/sql";
import type { Db } from "../../services/db";

/** One delivery attempt to make, as it travels on the webhooks queue. */
export const WebhookDeliveryMessage = z.object({
  type: z.literal("webhook_delivery"),
  tenant_id: z.string().uuid(),
  delivery_id: z.string().uuid(),
});
export type WebhookDeliveryMessage = z.infer<typeof WebhookDeliveryMessage>;

/** The JSON body a receiver gets for an event (also what the delivery log shows as `payload`). */
export function webhookPayload(event: StoredEvent): Record<string, unknown> {
  const data: Record<string, unknown> = {
    message_id: event.messageId,
    campaign_id: event.campaignId,
    email: event.email,
  };
  if (event.url !== null) data.url = event.url;
  // The event's own details follow, but never over the identifiers above.
  for (const [key, value] of Object.entries(event.data ?? {})) if (!(key in data)) data[key] = value;
  return { id: event.id, type: webhookEventType(event.type), created_at: event.occurredAt.toISOString(), data };
}

/** Whether an endpoint with these event types takes this herald event type ("email.opened"). */
export function subscribes(eventTypes: readonly string[], type: string): boolean {
  return eventTypes.length === 0 || eventTypes.includes(type);
}

/** Queues delivery attempts. */
export async function enqueueDeliveries(queue: Queue, tenantId: string, deliveryIds: readonly string[]): Promise<void> {
  await sendInBatches(queue, deliveryIds.map((id) => ({ body: { type: "webhook_delivery", tenant_id: tenantId, delivery_id: id } satisfies WebhookDeliveryMessage })));
}

/**
 * Creates a delivery for each enabled endpoint of the tenant subscribed to each event, and queues
 * them. One statement reads the endpoints and one inserts every delivery; a delivery is unique per
 * (endpoint, event), so the same event dispatched again creates and queues nothing. Call it inside
 * the transaction that stores the events (as the events consumer does): if queueing fails, the
 * deliveries roll back with the events, and the retry of the same events creates and queues them
 * afresh rather than finding them taken.
 */
export async function dispatchWebhooks(db: Db, env: Env, tenantId: string, events: StoredEvent[]): Promise<void> {
  const unique = new Map<string, StoredEvent>();
  for (const event of events) if (event.tenantId === tenantId) unique.set(event.id, event);
  if (unique.size === 0) return;

  const endpoints = await db
    .select({ id: webhookEndpoints.id, eventTypes: webhookEndpoints.eventTypes })
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.tenantId, tenantId), eq(webhookEndpoints.enabled, true)));
  if (endpoints.length === 0) return;

  const rows = { id: [] as string[], endpoint: [] as string[], event: [] as string[], type: [] as string[], payload: [] as string[] };
  for (const event of unique.values()) {
    const type = webhookEventType(event.type);
    let payload: string | undefined;
    for (const endpoint of endpoints) {
      if (!subscribes(endpoint.eventTypes, type)) continue;
      payload ??= JSON.stringify(webhookPayload(event));
      rows.id.push(uuidv7());
      rows.endpoint.push(endpoint.id);
      rows.event.push(event.id);
      rows.type.push(type);
      rows.payload.push(payload);
    }
  }
  if (rows.id.length === 0) return;

  const inserted = await db.execute<{ id: string }>(sql`
    INSERT INTO webhook_deliveries (id, tenant_id, endpoint_id, event_id, event_type, payload)
    SELECT i.id, ${tenantId}, i.endpoint_id, i.event_id, i.event_type, i.payload::jsonb
    FROM unnest(${pgArray(rows.id)}::uuid[], ${pgArray(rows.endpoint)}::uuid[], ${pgArray(rows.event)}::uuid[],
                ${pgArray(rows.type)}::text[], ${pgArray(rows.payload)}::text[])
      AS i(id, endpoint_id, event_id, event_type, payload)
    ON CONFLICT (endpoint_id, event_id) DO NOTHING
    RETURNING id`);
  // In the order the events came, which is as close as queues get to the order they happened in.
  const created = new Set(inserted.rows.map((r) => r.id));
  const ids = rows.id.filter((id) => created.has(id));
  if (ids.length === 0) return;

  await enqueueDeliveries(env.WEBHOOKS_QUEUE, tenantId, ids);
}
