import { defineRoute, type Handler, type ResponseBody } from "../../define";
import { PageQuery, pageOf } from "../../../lib/schemas";
import { endpointPage } from "../../../webhooks/store";
import { toEndpointDto, WebhookEndpointSchema } from "./schema";

export const route = defineRoute("get", "/", "webhooks:read", {
  summary: "List the tenant's webhook endpoints, newest first",
  request: { query: PageQuery },
  responses: [[200, pageOf(WebhookEndpointSchema, "WebhookEndpointPage"), "A page of endpoints"]],
});

export const handler: Handler<typeof route> = async (c) =>
  c.json(await endpointPage(c.var.db, c.var.principal.tenantId, c.req.valid("query"), toEndpointDto), 200);

export type ListWebhooksResponse = ResponseBody<typeof route>;
