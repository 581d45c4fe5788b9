import { defineRoute, type Handler, type ResponseBody } from "../../define";
import { IdParam } from "../../../lib/schemas";
import { findEndpoint } from "../../../webhooks/store";
import { toEndpointDto, WebhookEndpointSchema } from "./schema";

export const route = defineRoute("get", "/{id}", "webhooks:read", {
  summary: "Get one webhook endpoint (never its signing secret)",
  request: { params: IdParam },
  responses: [[200, WebhookEndpointSchema, "The endpoint"], 404],
});

export const handler: Handler<typeof route> = async (c) => {
  const row = await findEndpoint(c.var.db, c.var.principal.tenantId, c.req.valid("param").id);
  return c.json(toEndpointDto(row), 200);
};

export type GetWebhookResponse = ResponseBody<typeof route>;
