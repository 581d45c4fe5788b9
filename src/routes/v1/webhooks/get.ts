import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { and, eq } from "drizzle-orm";
import { webhookDeliveries, webhookEndpoints } from "../../../db/schema";
import type { HonoEnv } from "../../../env";
import { HeraldError } from "../../../errors";
import { findTenantRow } from "../../../lib/tenant-rows";
import { IdParam, problems, uuidOr404 } from "../../../lib/schemas";
import { requireScope } from "../../../middleware/auth";
import type { Db } from "../../../services/db";
import { toEndpointDto, WebhookEndpointSchema } from "./schema";

const route = createRoute({
  method: "get",
  path: "/{id}",
  tags: ["webhooks"],
  summary: "Get one webhook endpoint (never its signing secret)",
  security: [{ bearerAuth: [] }],
  middleware: [requireScope("webhooks:read")] as const,
  request: { params: IdParam },
  responses: {
    200: { description: "The endpoint", content: { "application/json": { schema: WebhookEndpointSchema } } },
    ...problems(401, 403, 404),
  },
});

export function noSuchEndpoint(): HeraldError {
  return new HeraldError("not_found", "no such webhook endpoint");
}

export function findEndpoint(db: Db, tenantId: string, id: string) {
  return findTenantRow(db, webhookEndpoints, tenantId, id, noSuchEndpoint);
}

/** A delivery of this tenant's endpoint; anything else (another endpoint's included) is not found. */
export async function findDelivery(db: Db, tenantId: string, endpointId: string, deliveryId: string) {
  const missing = new HeraldError("not_found", "no such webhook delivery");
  const endpoint = uuidOr404(endpointId, noSuchEndpoint);
  const delivery = uuidOr404(deliveryId, () => missing);
  const [row] = await db
    .select()
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.tenantId, tenantId), eq(webhookDeliveries.endpointId, endpoint), eq(webhookDeliveries.id, delivery)))
    .limit(1);
  if (!row) throw missing;
  return row;
}

export function registerGet(api: OpenAPIHono<HonoEnv>) {
  api.openapi(route, async (c) => {
    const row = await findEndpoint(c.var.db, c.var.principal.tenantId, c.req.valid("param").id);
    return c.json(toEndpointDto(row), 200);
  });
}
