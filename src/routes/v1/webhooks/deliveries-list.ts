import { defineRoute, type Handler, type ResponseBody } from "../../define";
import { IdParam, pageOf } from "../../../lib/schemas";
import { deliveryPage } from "../../../webhooks/store";
import { DeliveriesQuery, toDeliverySummaryDto, WebhookDeliverySummarySchema } from "./schema";

export const route = defineRoute("get", "/{id}/deliveries", "webhooks:read", {
  summary: "The endpoint's delivery log, newest first (GET one delivery for its payload)",
  request: { params: IdParam, query: DeliveriesQuery },
  responses: [[200, pageOf(WebhookDeliverySummarySchema, "WebhookDeliveryPage"), "A page of deliveries"], 404],
});

export const handler: Handler<typeof route> = async (c) => {
  const page = await deliveryPage(c.var.db, c.var.principal.tenantId, c.req.valid("param").id, c.req.valid("query"), toDeliverySummaryDto);
  return c.json(page, 200);
};

export type ListWebhookDeliveriesResponse = ResponseBody<typeof route>;
