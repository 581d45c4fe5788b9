import { destinationPolicy } from "../../../lib/destination";
import { defineRoute, type Handler, type RequestBody, type ResponseBody } from "../../define";
import { uuidv7 } from "../../../lib/ids";
import { newWebhookSecret, sealWebhookSecret } from "../../../webhooks/outbound/sign";
import { insertEndpoint } from "../../../webhooks/store";
import { checkWebhookUrl, CreateWebhookBody, toEndpointDto, uniqueTypes, WebhookEndpointWithSecretSchema } from "./schema";

export const route = defineRoute("post", "/", "webhooks:write", {
  summary: "Register a webhook endpoint. The answer carries its signing secret, shown this once and never again.",
  request: { body: CreateWebhookBody },
  responses: [[201, WebhookEndpointWithSecretSchema, "The new endpoint and its signing secret"], 503],
});

export const handler: Handler<typeof route> = async (c) => {
  const body = c.req.valid("json");
  checkWebhookUrl(body.url, destinationPolicy(c.env));
  const id = uuidv7();
  const secret = newWebhookSecret();
  const row = await insertEndpoint(c.var.db, {
    id,
    tenantId: c.var.principal.tenantId,
    url: body.url,
    description: body.description ?? null,
    eventTypes: uniqueTypes(body.event_types),
    secret: await sealWebhookSecret(id, secret, c.env),
    enabled: body.enabled,
    signatureScheme: body.signature_scheme,
  });
  c.var.logger.info("webhook endpoint created", { endpoint_id: id, event_types: row.eventTypes, signature_scheme: row.signatureScheme });
  return c.json({ ...toEndpointDto(row), secret }, 201);
};

export type PostWebhookBody = RequestBody<typeof route>;
export type PostWebhookResponse = ResponseBody<typeof route>;
