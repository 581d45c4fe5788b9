import { and, eq, sql } from "drizzle-orm";
import { z } from "zod";
import { webhookDeliveries, webhookEndpoints } from "../../db/schema";
import { webhookEventType, type StoredEvent } from "../../events/message";
import { uuidv7 } from "../../lib/ids";
import { pgArray } from "../../lib/sql";
import type { Db } from "../../services/db";

/** One delivery attempt to make, as it travels on the webhooks queue. */
export const WebhookDeliveryMessage = z.object({
  type: z.literal("webhook_delivery"),
  tenant_id: z.string().uuid(),
  delivery_id: z.string().uuid(),
});
export type WebhookDeliveryMessage = z.infer<typeof WebhookDeliveryMessage>;

/** The Queues limit per sendBatch call. */
const MAX_BATCH_MESSAGES = 100;

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

/** Queues delivery attempts, at most 100 messages per sendBatch call. Returns how many were queued. */
export async function enqueueDeliveries(queue: Queue, tenantId: string, deliveryIds: readonly string[]): Promise<number> {
  let sent = 0;
  for (let i = 0; i < deliveryIds.length; i += MAX_BATCH_MESSAGES) {
    const chunk = deliveryIds.slice(i, i + MAX_BATCH_MESSAGES);
    await queue.sendBatch(chunk.map((id) => ({ body: { type: "webhook_delivery", tenant_id: tenantId, delivery_id: id } satisfies WebhookDeliveryMessage })));
    sent += chunk.length;
  }
  return sent;
}

/**
 * Creates a delivery for each enabled endpoint of the tenant subscribed to each event, and queues
 * them. One statement reads the endpoints and one inserts every delivery; a delivery is unique per
 * (endpoint, event), so the same event dispatched again creates and queues nothing. If queueing
 * fails, the deliveries not yet queued are removed again before the error is passed on, so the
 * caller's retry of the same events creates and queues them afresh rather than finding them taken.
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

  let queued = 0;
  try {
    for (let i = 0; i < ids.length; i += MAX_BATCH_MESSAGES) {
      queued += await enqueueDeliveries(env.WEBHOOKS_QUEUE, tenantId, ids.slice(i, i + MAX_BATCH_MESSAGES));
    }
  } catch (err) {
    const unqueued = ids.slice(queued);
    await db
      .delete(webhookDeliveries)
      .where(and(eq(webhookDeliveries.tenantId, tenantId), sql`${webhookDeliveries.id} = ANY(${pgArray(unqueued)}::uuid[])`))
      .catch(() => {});
    throw err;
  }
}
