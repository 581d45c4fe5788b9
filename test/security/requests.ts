// What another tenant sends when it aims an operation at the owner's ids: a body valid enough to
// get past validation (so the 404 comes from the ownership check, not a 422 before it), built from
// the owner's ids wherever the body names a resource, as an attacker would. An operation that must
// be sent a body and has none here fails the test, so a new route cannot skip the isolation check.
import type { Operation } from "./routes";

export interface AttackRequest {
  json?: (id: (kind: string) => string) => unknown;
  headers?: Record<string, string>;
}

const inAnHour = () => new Date(Date.now() + 3_600_000).toISOString();

export const ATTACK_REQUESTS: Record<string, AttackRequest> = {
  "PATCH /v1/contacts/{id}": { json: () => ({ name: "taken over", status: "unsubscribed" }) },
  "PATCH /v1/lists/{id}": { json: () => ({ name: "taken over" }) },
  "POST /v1/lists/{id}/members": { json: (id) => ({ contact_ids: [id("contacts")] }) },
  "PATCH /v1/templates/{id}": { json: () => ({ subject: "taken over" }) },
  "POST /v1/templates/{id}/preview": { json: () => ({}) },
  "PATCH /v1/providers/{id}": { json: () => ({ name: "taken over", rate_per_second: 1 }) },
  "POST /v1/providers/{id}/test": { json: () => ({ to: "attacker@example.test" }) },
  "PATCH /v1/campaigns/{id}": { json: () => ({ name: "taken over", from: "attacker@example.test" }) },
  "POST /v1/campaigns/{id}/schedule": { json: () => ({ scheduled_at: inAnHour() }) },
  // The WebSocket route refuses a plain GET (400) before it looks the campaign up.
  "GET /v1/campaigns/{id}/progress/stream": { headers: { upgrade: "websocket" } },
  "PATCH /v1/webhooks/{id}": { json: () => ({ url: "https://attacker.example.com/", enabled: false }) },
};

/** The request for `op`, or why there is none and there must be. */
export function attackRequest(op: Operation): AttackRequest | string {
  const request = ATTACK_REQUESTS[op.key];
  if (op.body === "required" && !request?.json) {
    return `${op.key} takes a body: add a valid one to ATTACK_REQUESTS in test/security/requests.ts`;
  }
  return request ?? {};
}
