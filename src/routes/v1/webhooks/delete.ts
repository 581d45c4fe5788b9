import type { OpenAPIHono } from "@hono/zod-openapi";
import { webhookEndpoints } from "../../../db/schema";
import type { HonoEnv } from "../../../env";
import { noSuchEndpoint } from "./get";
import { deleteByIdRoute } from "../../../lib/schemas";
import { deleteTenantRow } from "../../../lib/tenant-rows";
import { requireScope } from "../../../middleware/auth";

const route = deleteByIdRoute(
  "webhooks",
  "Delete a webhook endpoint and its delivery log. Deliveries still queued are dropped.",
  requireScope("webhooks:write"),
);

export function registerDelete(api: OpenAPIHono<HonoEnv>) {
  api.openapi(route, async (c) => {
    const id = await deleteTenantRow(c.var.db, webhookEndpoints, c.var.principal.tenantId, c.req.valid("param").id, noSuchEndpoint);
    c.var.logger.info("webhook endpoint deleted", { endpoint_id: id });
    return c.body(null, 204);
  });
}
