import { z } from "zod";
import { EVENT_TYPES } from "../db/events-table";
import { sendInBatches } from "../lib/queues";

/** One delivery or engagement event, as it travels on the events queue. */
export const EventInput = z.object({
  type: z.enum(EVENT_TYPES),
  message_id: z.string().uuid().optional(),
  campaign_id: z.string().uuid().optional(),
  email: z.string().max(320).optional(),
  /** tracking | unsubscribe | send | an inbound provider's kind */
  source: z.string().min(1).max(32),
  /** The source's own id for the event; events with one are stored once however often they arrive. */
  provider_event_id: z.string().min(1).max(512).optional(),
  url: z.string().max(4096).optional(),
  occurred_at: z
    .string()
    .datetime({ offset: true })
    .refine((v) => {
      const t = Date.parse(v);
      return t >= Date.UTC(2000, 0, 1) && t < Date.now() + 86_400_000;
    }, "must be a time between 2000 and tomorrow"),
  bounce_type: z.enum(["hard", "soft"]).optional(),
  data: z.record(z.string(), z.unknown()).optional(),
});
export type EventInput = z.infer<typeof EventInput>;

export const EventMessage = z.object({
  type: z.literal("event"),
  tenant_id: z.string().uuid(),
  event: EventInput,
});
export type EventMessage = z.infer<typeof EventMessage>;

/** An event as stored, handed to the outbound webhook dispatcher. */
export interface StoredEvent {
  id: string;
  tenantId: string;
  type: EventInput["type"];
  occurredAt: Date;
  messageId: string | null;
  campaignId: string | null;
  email: string | null;
  url: string | null;
  data: Record<string, unknown>;
}

/**
 * The event a send outcome publishes: `sent`, `failed` or `unknown`, keyed so that the same outcome
 * published twice (a retried batch, a replay, the sweeper) is stored once.
 */
export function sendOutcomeEvent(
  o: { id: string; status: string; error?: string; providerMessageId?: string },
  occurredAt: string,
  email?: string,
): EventInput {
  return {
    type: o.status === "sent" ? "sent" : o.status === "unknown" ? "unknown" : "failed",
    source: "send",
    message_id: o.id,
    ...(email ? { email } : {}),
    provider_event_id: `send:${o.id}:${o.status}`,
    occurred_at: occurredAt,
    data: o.error ? { error: o.error } : o.providerMessageId ? { provider_message_id: o.providerMessageId } : {},
  };
}

/** The outbound webhook type of a herald event: email.delivered, email.opened, … */
export const webhookEventType = (type: EventInput["type"]) => `email.${type}`;
export const WEBHOOK_EVENT_TYPES = EVENT_TYPES.map(webhookEventType);

/** Sends events to the events queue. */
export async function publishEvents(queue: Queue, tenantId: string, events: EventInput[]): Promise<void> {
  await sendInBatches(
    queue,
    events.map((event) => ({ body: { type: "event", tenant_id: tenantId, event } satisfies EventMessage })),
  );
}
