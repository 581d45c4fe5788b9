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
  await sendInBatches(
    queue,
    deliveryIds.map((id) => ({
      body: { type: "webhook_delivery", tenant_id: tenantId, delivery_id: id } satisfies WebhookDeliveryMessage,
    })),
  );
}

/**
 * Opens and clicks are coalesced per message and endpoint, so one recipient reloading an email or a
 * link scanner following every link cannot make herald send a tenant thousands of webhooks: within
 * each window of COALESCE_WINDOW_SECONDS (aligned to the clock), a message gets at most one
 * email.opened delivery and one email.clicked delivery per distinct URL, for at most
 * CLICKED_URLS_PER_WINDOW URLs. The events themselves are all stored (within the tracking cap) and
 * counted in the stats; only their webhooks are coalesced. Events without a herald message id are
 * not coalesced.
 */
export const COALESCE_WINDOW_SECONDS = 3600;
export const CLICKED_URLS_PER_WINDOW = 5;

/**
 * The coalescing slots an event may take, one per delivery its window allows. A delivery records the
 * slot it took in coalesce_key, unique per endpoint, so two consumers racing for one slot cannot both
 * send. The loser's delivery is dropped: when that was a click on another URL, that URL goes
 * unreported for the window, a fair price for a bound that holds across consumers.
 */
function slotsOf(event: StoredEvent): string[] | undefined {
  if (!event.messageId || (event.type !== "opened" && event.type !== "clicked")) return undefined;
  const windowMs = COALESCE_WINDOW_SECONDS * 1000;
  const start = new Date(Math.floor(event.occurredAt.getTime() / windowMs) * windowMs).toISOString();
  const count = event.type === "opened" ? 1 : CLICKED_URLS_PER_WINDOW;
  return Array.from({ length: count }, (_, i) => `${event.type}:${event.messageId}:${start}:${i}`);
}

/** The slots already taken by the endpoints' deliveries, with the URL each was taken for ("" for opens). */
async function takenSlots(db: Db, endpointIds: string[], slots: string[]): Promise<Map<string, string>> {
  const taken = new Map<string, string>();
  if (slots.length === 0) return taken;
  const found = await db.execute<{ endpoint_id: string; coalesce_key: string; url: string | null }>(sql`
    SELECT endpoint_id, coalesce_key, payload->'data'->>'url' AS url FROM webhook_deliveries
    WHERE endpoint_id = ANY(${pgArray(endpointIds)}::uuid[]) AND coalesce_key = ANY(${pgArray(slots)}::text[])`);
  for (const r of found.rows) taken.set(`${r.endpoint_id} ${r.coalesce_key}`, r.url ?? "");
  return taken;
}

/**
 * Creates a delivery for each enabled endpoint of the tenant subscribed to each event, and queues
 * them. One statement reads the endpoints and one inserts every delivery; a delivery is unique per
 * (endpoint, event), so the same event dispatched again creates and queues nothing. Call it inside
 * the transaction that stores the events (as the events consumer does): if queueing fails, the
 * deliveries roll back with the events, and the retry of the same events creates and queues them
 * afresh rather than finding them taken. Opens and clicks are coalesced (see COALESCE_WINDOW_SECONDS).
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

  const slots = new Map([...unique.values()].map((e) => [e, slotsOf(e)]));
  const taken = await takenSlots(
    db,
    endpoints.map((e) => e.id),
    [...slots.values()].flatMap((s) => s ?? []),
  );

  const rows = {
    id: [] as string[],
    endpoint: [] as string[],
    event: [] as string[],
    type: [] as string[],
    payload: [] as string[],
    slot: [] as (string | null)[],
  };
  for (const event of unique.values()) {
    const type = webhookEventType(event.type);
    let payload: string | undefined;
    for (const endpoint of endpoints) {
      if (!subscribes(endpoint.eventTypes, type)) continue;
      let slot: string | null = null;
      const candidates = slots.get(event);
      if (candidates) {
        const url = event.url ?? "";
        const held = candidates.map((s) => taken.get(`${endpoint.id} ${s}`));
        // Already sent for this window (and URL), or every slot of the window is used: coalesced away.
        if (held.includes(url)) continue;
        const free = candidates.find((_, i) => held[i] === undefined);
        if (free === undefined) continue;
        taken.set(`${endpoint.id} ${free}`, url);
        slot = free;
      }
      payload ??= JSON.stringify(webhookPayload(event));
      rows.id.push(uuidv7());
      rows.endpoint.push(endpoint.id);
      rows.event.push(event.id);
      rows.type.push(type);
      rows.payload.push(payload);
      rows.slot.push(slot);
    }
  }
  if (rows.id.length === 0) return;

  const inserted = await db.execute<{ id: string }>(sql`
    INSERT INTO webhook_deliveries (id, tenant_id, endpoint_id, event_id, event_type, payload, coalesce_key)
    SELECT i.id, ${tenantId}, i.endpoint_id, i.event_id, i.event_type, i.payload::jsonb, i.coalesce_key
    FROM unnest(${pgArray(rows.id)}::uuid[], ${pgArray(rows.endpoint)}::uuid[], ${pgArray(rows.event)}::uuid[],
                ${pgArray(rows.type)}::text[], ${pgArray(rows.payload)}::text[], ${pgArray(rows.slot)}::text[])
      AS i(id, endpoint_id, event_id, event_type, payload, coalesce_key)
    -- Either unique index: the same event again, or a coalescing slot another consumer just took.
    ON CONFLICT DO NOTHING
    RETURNING id`);
  // In the order the events came, which is as close as queues get to the order they happened in.
  const created = new Set(inserted.rows.map((r) => r.id));
  const ids = rows.id.filter((id) => created.has(id));
  if (ids.length === 0) return;

  await enqueueDeliveries(env.WEBHOOKS_QUEUE, tenantId, ids);
}
