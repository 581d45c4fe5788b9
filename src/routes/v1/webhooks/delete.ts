import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { and, eq } from "drizzle-orm";
import { webhookEndpoints } from "../../../db/schema";
import type { HonoEnv } from "../../../env";
import { isUuid } from "../../../lib/ids";
import { IdParam, problems } from "../../../lib/schemas";
import { requireScope } from "../../../middleware/auth";
import { noSuchEndpoint } from "./get";

const route = createRoute({
  method: "delete",
  path: "/{id}",
  tags: ["webhooks"],
  summary: "Delete a webhook endpoint and its delivery log. Deliveries still queued are dropped.",
  security: [{ bearerAuth: [] }],
  middleware: [requireScope("webhooks:write")] as const,
  request: { params: IdParam },
  responses: {
    204: { description: "Deleted" },
    ...problems(401, 403, 404),
  },
});

export function registerDelete(api: OpenAPIHono<HonoEnv>) {
  api.openapi(route, async (c) => {
    const { tenantId } = c.var.principal;
    const { id } = c.req.valid("param");
    if (!isUuid(id)) throw noSuchEndpoint();
    const [gone] = await c.var.db
      .delete(webhookEndpoints)
      .where(and(eq(webhookEndpoints.tenantId, tenantId), eq(webhookEndpoints.id, id.toLowerCase())))
      .returning({ id: webhookEndpoints.id });
    if (!gone) throw noSuchEndpoint();
    c.var.logger.info("webhook endpoint deleted", { endpoint_id: gone.id });
    return c.body(null, 204);
  });
}
