import { z } from "zod";

/** Every queue message names its kind and tenant, so a consumer can route, scope and log it. */
export const Envelope = z.object({
  type: z.string().min(1).max(64),
  tenant_id: z.string().uuid(),
});
export type Envelope = z.infer<typeof Envelope>;

export const QUEUE_NAMES = {
  send: "herald-send",
  fanout: "herald-fanout",
  events: "herald-events",
  transactional: "herald-transactional",
  webhooks: "herald-webhooks",
} as const;

export const DLQ_SUFFIX = "-dlq";
