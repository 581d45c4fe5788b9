import type { OpenAPIHono } from "@hono/zod-openapi";
import { templates } from "../../../db/schema";
import type { HonoEnv } from "../../../env";
import { noSuchTemplate, templateCacheKey } from "./store";
import { deleteByIdRoute } from "../../../lib/schemas";
import { deleteTenantRow } from "../../../lib/tenant-rows";
import { requireScope } from "../../../middleware/auth";

const route = deleteByIdRoute(
  "templates",
  "Delete a template; campaigns already launched keep the snapshot they took",
  requireScope("templates:write"),
);

export function registerDelete(api: OpenAPIHono<HonoEnv>) {
  api.openapi(route, async (c) => {
    const id = await deleteTenantRow(c.var.db, templates, c.var.principal.tenantId, c.req.valid("param").id, noSuchTemplate);
    await c.var.cache.delete(templateCacheKey(c.var.principal.tenantId, id));
    c.var.logger.info("template deleted", { template_id: id });
    return c.body(null, 204);
  });
}
