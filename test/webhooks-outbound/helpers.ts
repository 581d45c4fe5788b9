// Shared by the outbound webhook tests (test/webhooks-outbound/*): endpoints and their delivery log
// through the API, and what the test receiver was sent.
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { call } from "../helpers";
import type { ReceivedWebhook } from "../setup/webhook-receiver";

export const RECEIVER = (env as Env & { TEST_WEBHOOK_URL: string }).TEST_WEBHOOK_URL;

export interface Endpoint {
  id: string;
  url: string;
  description: string | null;
  event_types: string[];
  enabled: boolean;
  created_at: string;
  updated_at: string;
  secret?: string;
}

export interface Delivery {
  id: string;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  status: "pending" | "succeeded" | "failed";
  attempts: number;
  response_status: number | null;
  error: string | null;
  delivered_at: string | null;
  payload?: Record<string, unknown>;
}

export const tag = () => `w${crypto.randomUUID().slice(0, 12)}`;

export async function json<T>(res: Response, status: number): Promise<T> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  return JSON.parse(text) as T;
}

export async function createEndpoint(token: string, body: Record<string, unknown>): Promise<Endpoint & { secret: string }> {
  return json(await call("/v1/webhooks", { method: "POST", token, json: body }), 201);
}

export async function deliveriesOf(
  token: string,
  endpointId: string,
  query = "",
): Promise<{ data: Delivery[]; next_cursor: string | null }> {
  return json(await call(`/v1/webhooks/${endpointId}/deliveries${query}`, { token }), 200);
}

export async function received(t: string): Promise<ReceivedWebhook[]> {
  const res = await fetch(`${RECEIVER}/_received?tag=${t}`);
  return (await res.json()) as ReceivedWebhook[];
}
