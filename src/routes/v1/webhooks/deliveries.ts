import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { desc, eq } from "drizzle-orm";
import { webhookDeliveries } from "../../../db/schema";
import type { HonoEnv } from "../../../env";
import { idPage, tenantRowsBefore } from "../../../lib/keyset";
import { IdParam, pageOf, problems } from "../../../lib/schemas";
import { requireScope } from "../../../middleware/auth";
import { findDelivery, findEndpoint } from "./get";
import {
  DeliveriesQuery,
  DeliveryParams,
  toDeliveryDto,
  toDeliverySummaryDto,
  WebhookDeliverySchema,
  WebhookDeliverySummarySchema,
} from "./schema";

const listRoute = createRoute({
  method: "get",
  path: "/{id}/deliveries",
  tags: ["webhooks"],
  summary: "The endpoint's delivery log, newest first (GET one delivery for its payload)",
  security: [{ bearerAuth: [] }],
  middleware: [requireScope("webhooks:read")] as const,
  request: { params: IdParam, query: DeliveriesQuery },
  responses: {
    200: {
      description: "A page of deliveries",
      content: { "application/json": { schema: pageOf(WebhookDeliverySummarySchema, "WebhookDeliveryPage") } },
    },
    ...problems(401, 403, 404, 422),
  },
});

const getRoute = createRoute({
  method: "get",
  path: "/{id}/deliveries/{delivery_id}",
  tags: ["webhooks"],
  summary: "One delivery: its payload, attempts and the last attempt's answer",
  security: [{ bearerAuth: [] }],
  middleware: [requireScope("webhooks:read")] as const,
  request: { params: DeliveryParams },
  responses: {
    200: { description: "The delivery", content: { "application/json": { schema: WebhookDeliverySchema } } },
    ...problems(401, 403, 404),
  },
});

export function registerDeliveries(api: OpenAPIHono<HonoEnv>) {
  api.openapi(listRoute, async (c) => {
    const { status, ...query } = c.req.valid("query");
    const { tenantId } = c.var.principal;
    const page = await idPage(
      query,
      async (before, take) => {
        const endpoint = await findEndpoint(c.var.db, tenantId, c.req.valid("param").id);
        return c.var.db
          .select()
          .from(webhookDeliveries)
          .where(
            tenantRowsBefore(
              webhookDeliveries,
              tenantId,
              before,
              eq(webhookDeliveries.endpointId, endpoint.id),
              status ? eq(webhookDeliveries.status, status) : undefined,
            ),
          )
          .orderBy(desc(webhookDeliveries.id))
          .limit(take);
      },
      toDeliverySummaryDto,
    );
    return c.json(page, 200);
  });

  api.openapi(getRoute, async (c) => {
    const { id, delivery_id } = c.req.valid("param");
    const row = await findDelivery(c.var.db, c.var.principal.tenantId, id, delivery_id);
    return c.json(toDeliveryDto(row), 200);
  });
}
