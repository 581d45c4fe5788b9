import { defineRoute, type Handler, type ResponseBody } from "../../define";
import { HeraldError } from "../../../errors";
import { enqueueDeliveries } from "../../../webhooks/outbound/dispatch";
import { findDelivery, findEndpoint, resetDelivery } from "../../../webhooks/store";
import { DeliveryParams, toDeliveryDto, WebhookDeliverySchema } from "./schema";

export const route = defineRoute("post", "/{id}/deliveries/{delivery_id}/redeliver", "webhooks:write", {
  summary: "Send a delivery again, whatever its status: it goes back to pending and is queued with a fresh set of retries",
  request: { params: DeliveryParams },
  responses: [[202, WebhookDeliverySchema, "Queued again"], 404, 409],
});

export const handler: Handler<typeof route> = async (c) => {
  const { id, delivery_id } = c.req.valid("param");
  const { tenantId } = c.var.principal;
  const endpoint = await findEndpoint(c.var.db, tenantId, id);
  const delivery = await findDelivery(c.var.db, tenantId, endpoint.id, delivery_id);
  if (!endpoint.enabled) throw new HeraldError("conflict", "the endpoint is disabled; enable it before redelivering");
  // Pending before it is queued, so the consumer never finds the message's delivery still settled.
  const row = await resetDelivery(c.var.db, tenantId, delivery.id);
  await enqueueDeliveries(c.env.WEBHOOKS_QUEUE, tenantId, [row.id]);
  c.var.logger.info("webhook redelivery queued", { endpoint_id: endpoint.id, delivery_id: row.id, previous_status: delivery.status });
  return c.json(toDeliveryDto(row), 202);
};

export type RedeliverWebhookDeliveryResponse = ResponseBody<typeof route>;
