import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { and, eq } from "drizzle-orm";
import { webhookDeliveries } from "../../../db/schema";
import type { HonoEnv } from "../../../env";
import { HeraldError } from "../../../errors";
import { problems } from "../../../lib/schemas";
import { requireScope } from "../../../middleware/auth";
import { enqueueDeliveries } from "../../../webhooks/outbound/dispatch";
import { findDelivery, findEndpoint } from "./get";
import { DeliveryParams, toDeliveryDto, WebhookDeliverySchema } from "./schema";

const route = createRoute({
  method: "post",
  path: "/{id}/deliveries/{delivery_id}/redeliver",
  tags: ["webhooks"],
  summary: "Send a delivery again, whatever its status: it goes back to pending and is queued with a fresh set of retries",
  security: [{ bearerAuth: [] }],
  middleware: [requireScope("webhooks:write")] as const,
  request: { params: DeliveryParams },
  responses: {
    202: { description: "Queued again", content: { "application/json": { schema: WebhookDeliverySchema } } },
    ...problems(401, 403, 404, 409),
  },
});

export function registerRedeliver(api: OpenAPIHono<HonoEnv>) {
  api.openapi(route, async (c) => {
    const { id, delivery_id } = c.req.valid("param");
    const { tenantId } = c.var.principal;
    const endpoint = await findEndpoint(c.var.db, tenantId, id);
    const delivery = await findDelivery(c.var.db, tenantId, endpoint.id, delivery_id);
    if (!endpoint.enabled) throw new HeraldError("conflict", "the endpoint is disabled; enable it before redelivering");
    // Pending before it is queued, so the consumer never finds the message's delivery still settled.
    const [row] = await c.var.db
      .update(webhookDeliveries)
      .set({ status: "pending", deliveredAt: null, updatedAt: new Date() })
      .where(and(eq(webhookDeliveries.tenantId, tenantId), eq(webhookDeliveries.id, delivery.id)))
      .returning();
    if (!row) throw new HeraldError("not_found", "no such webhook delivery");
    await enqueueDeliveries(c.env.WEBHOOKS_QUEUE, tenantId, [row.id]);
    c.var.logger.info("webhook redelivery queued", { endpoint_id: endpoint.id, delivery_id: row.id, previous_status: delivery.status });
    return c.json(toDeliveryDto(row), 202);
  });
}
