// Shared by the inbound webhook and event tests: a queue binding that records (or refuses) what is
// sent, a provider created through the API, a webhook posted the way a provider posts it, and the
// real events consumer run over a batch.
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import type { EventMessage } from "../src/events/message";
import worker from "../src/index";
import { call } from "./helpers";

/** Stands in for a queue binding, recording what is sent, or failing every send. */
export function recordingQueue<T = EventMessage>(fail = false) {
  const sent: T[] = [];
  const queue = {
    send: async (body: T) => {
      if (fail) throw new Error("queue unavailable");
      sent.push(body);
    },
    sendBatch: async (messages: Iterable<{ body: T }>) => {
      if (fail) throw new Error("queue unavailable");
      for (const m of messages) sent.push(m.body);
    },
  };
  return { sent, queue: queue as unknown as Queue };
}

export async function createProvider(apiKey: string, body: Record<string, unknown>): Promise<{ id: string; text: string }> {
  const res = await call("/v1/providers", {
    method: "POST",
    token: apiKey,
    json: { name: `p-${crypto.randomUUID().slice(0, 6)}`, ...body },
  });
  const text = await res.text();
  expect(res.status, text).toBe(201);
  return { id: (JSON.parse(text) as { id: string }).id, text };
}

/** Posts a webhook the way a provider does (no bearer token, the body exactly as signed), with the events queue recorded or failing. */
export async function deliver(providerId: string, body: string, headers: Record<string, string> = {}, failQueue = false) {
  const recorder = recordingQueue(failQueue);
  const res = await call(`/v1/webhooks/inbound/${providerId}`, {
    method: "POST",
    body,
    headers: { "content-type": "application/json", ...headers },
    env: { EVENTS_QUEUE: recorder.queue },
  });
  return { res, sent: recorder.sent };
}

let seq = 0;
/** Runs the worker's events consumer over these bodies as one delivered batch, with WEBHOOKS_QUEUE as given; nothing may be retried. */
export async function consumeEvents(bodies: EventMessage[], webhooks: Queue): Promise<void> {
  const batch = createMessageBatch(
    "herald-events",
    bodies.map((body) => ({ id: `ev${++seq}`, timestamp: new Date(), attempts: 1, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, { ...env, WEBHOOKS_QUEUE: webhooks }, ctx);
  expect((await getQueueResult(batch, ctx)).retryMessages).toEqual([]);
}
