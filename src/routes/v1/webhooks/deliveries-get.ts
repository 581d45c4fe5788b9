import { defineRoute, type Handler, type ResponseBody } from "../../define";
import { findDelivery } from "../../../webhooks/store";
import { DeliveryParams, toDeliveryDto, WebhookDeliverySchema } from "./schema";

export const route = defineRoute("get", "/{id}/deliveries/{delivery_id}", "webhooks:read", {
  summary: "One delivery: its payload, attempts and the last attempt's answer",
  request: { params: DeliveryParams },
  responses: [[200, WebhookDeliverySchema, "The delivery"], 404],
});

export const handler: Handler<typeof route> = async (c) => {
  const { id, delivery_id } = c.req.valid("param");
  const row = await findDelivery(c.var.db, c.var.principal.tenantId, id, delivery_id);
  return c.json(toDeliveryDto(row), 200);
};

export type GetWebhookDeliveryResponse = ResponseBody<typeof route>;
