// Shared by the outbound webhook tests (test/webhooks-outbound/*): events dispatched as the events
// consumer does, a stand-in WEBHOOKS_QUEUE, and the webhooks consumer run over a batch.
import { createExecutionContext, createMessageBatch, getQueueResult, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import type { StoredEvent } from "../../src/events/message";
import worker from "../../src/index";
import { dispatchWebhooks, type WebhookDeliveryMessage } from "../../src/webhooks/outbound/dispatch";
import { processWebhookBatch } from "../../queues/webhooks";
import { JsonLogger } from "../../src/services/logger";
import { withDb as rows, newTenant } from "../helpers";
import { RECEIVER, createEndpoint, tag } from "./helpers";

export function event(tenantId: string, type: StoredEvent["type"], extra: Partial<StoredEvent> = {}): StoredEvent {
  return {
    id: crypto.randomUUID(),
    tenantId,
    type,
    occurredAt: new Date("2026-11-22T10:00:00.000Z"),
    messageId: crypto.randomUUID(),
    campaignId: crypto.randomUUID(),
    email: "ada@example.test",
    url: null,
    data: {},
    ...extra,
  };
}

/** A stand-in for WEBHOOKS_QUEUE that keeps what was sent, so a test can hand it to the consumer itself. */
export function captureQueue(fail = false) {
  const calls: WebhookDeliveryMessage[][] = [];
  const queue = {
    async send() {
      throw new Error("use sendBatch");
    },
    async sendBatch(messages: Iterable<MessageSendRequest<WebhookDeliveryMessage>>) {
      if (fail) throw new Error("queue unavailable");
      calls.push([...messages].map((m) => m.body));
    },
  } as unknown as Queue;
  return { queue, calls, bodies: () => calls.flat() };
}

/** Dispatches as the events consumer does: inside the transaction that stores the events. */
export async function dispatch(tenantId: string, events: StoredEvent[], queue: Queue = captureQueue().queue): Promise<void> {
  await rows((db) => db.transaction((tx) => dispatchWebhooks(tx, { ...env, WEBHOOKS_QUEUE: queue }, tenantId, events)));
}

let seq = 0;
/** Runs the webhooks consumer over these message bodies, as the queue would deliver them. */
export async function consume(bodies: unknown[], attempts = 1, queue = "herald-webhooks") {
  const ids = bodies.map(() => `m${++seq}`);
  const batch = createMessageBatch(
    queue,
    bodies.map((body, i) => ({ id: ids[i]!, timestamp: new Date(), attempts, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, env, ctx);
  const result = await getQueueResult(batch, ctx);
  return { ids, result };
}

/**
 * Runs the consumer over a hand-made batch that records each message's ack or retry with its delay
 * (getQueueResult reports retries without their delay).
 */
export async function consumeRecorded(bodies: unknown[], attempts: number) {
  const acked: string[] = [];
  const retried: { id: string; delaySeconds?: number }[] = [];
  const messages = bodies.map((body) => {
    const id = `r${++seq}`;
    return {
      id,
      timestamp: new Date(),
      attempts,
      body,
      ack: () => acked.push(id),
      retry: (options?: QueueRetryOptions) => retried.push({ id, delaySeconds: options?.delaySeconds }),
    };
  });
  const batch = { queue: "herald-webhooks", messages, ackAll: () => {}, retryAll: () => {} } as unknown as MessageBatch;
  const ctx = createExecutionContext();
  await processWebhookBatch(batch, env, ctx, new JsonLogger({}, "error", () => {}));
  await waitOnExecutionContext(ctx);
  return { acked, retried };
}

/** One endpoint at the receiver, one event dispatched to it, and its queued message. */
export async function oneDelivery(path: (t: string) => string, body: Record<string, unknown> = {}) {
  const t = tag();
  const tenant = await newTenant();
  const endpoint = await createEndpoint(tenant.apiKey, { url: `${RECEIVER}${path(t)}`, ...body });
  const q = captureQueue();
  const e = event(tenant.tenantId, "delivered");
  await dispatch(tenant.tenantId, [e], q.queue);
  expect(q.bodies()).toHaveLength(1);
  return { t, tenant, endpoint, event: e, message: q.bodies()[0]! };
}
