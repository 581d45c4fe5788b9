import { destinationPolicy } from "../../../lib/destination";
import { defineRoute, type Handler, type RequestBody, type ResponseBody } from "../../define";
import { IdParam } from "../../../lib/schemas";
import { type EndpointChanges, findEndpoint, updateEndpoint } from "../../../webhooks/store";
import { checkWebhookUrl, toEndpointDto, uniqueTypes, UpdateWebhookBody, WebhookEndpointSchema } from "./schema";

export const route = defineRoute("patch", "/{id}", "webhooks:write", {
  summary: "Change a webhook endpoint's URL, event types, description, enabled flag or signature scheme (the secret stays the same)",
  request: { params: IdParam, body: UpdateWebhookBody },
  responses: [[200, WebhookEndpointSchema, "The endpoint"], 404],
});

export const handler: Handler<typeof route> = async (c) => {
  const { tenantId } = c.var.principal;
  const existing = await findEndpoint(c.var.db, tenantId, c.req.valid("param").id);
  const body = c.req.valid("json");
  if (body.url !== undefined) checkWebhookUrl(body.url, destinationPolicy(c.env));
  const changes: EndpointChanges = { updatedAt: new Date() };
  if (body.url !== undefined) changes.url = body.url;
  if (body.event_types !== undefined) changes.eventTypes = uniqueTypes(body.event_types);
  if (body.description !== undefined) changes.description = body.description;
  if (body.enabled !== undefined) changes.enabled = body.enabled;
  // Takes effect from the next attempt, retries of deliveries already queued included; both schemes
  // key their HMAC with the same secret, so the receiver keeps the one it has.
  if (body.signature_scheme !== undefined) changes.signatureScheme = body.signature_scheme;
  const row = await updateEndpoint(c.var.db, tenantId, existing.id, changes);
  c.var.logger.info("webhook endpoint updated", { endpoint_id: row.id, fields: Object.keys(body) });
  return c.json(toEndpointDto(row), 200);
};

export type PatchWebhookBody = RequestBody<typeof route>;
export type PatchWebhookResponse = ResponseBody<typeof route>;
