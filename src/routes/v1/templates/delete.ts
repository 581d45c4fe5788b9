import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { and, eq } from "drizzle-orm";
import { templates } from "../../../db/schema";
import type { HonoEnv } from "../../../env";
import { isUuid } from "../../../lib/ids";
import { IdParam, problems } from "../../../lib/schemas";
import { requireScope } from "../../../middleware/auth";
import { noSuchTemplate, templateCacheKey } from "./store";

const route = createRoute({
  method: "delete",
  path: "/{id}",
  tags: ["templates"],
  summary: "Delete a template; campaigns already launched keep the snapshot they took",
  security: [{ bearerAuth: [] }],
  middleware: [requireScope("templates:write")] as const,
  request: { params: IdParam },
  responses: {
    204: { description: "Deleted" },
    ...problems(401, 403, 404),
  },
});

export function registerDelete(api: OpenAPIHono<HonoEnv>) {
  api.openapi(route, async (c) => {
    const { id } = c.req.valid("param");
    if (!isUuid(id)) throw noSuchTemplate();
    const deleted = await c.var.db
      .delete(templates)
      .where(and(eq(templates.tenantId, c.var.principal.tenantId), eq(templates.id, id.toLowerCase())))
      .returning({ id: templates.id });
    if (deleted.length === 0) throw noSuchTemplate();
    await c.var.cache.delete(templateCacheKey(c.var.principal.tenantId, deleted[0]!.id));
    c.var.logger.info("template deleted", { template_id: deleted[0]!.id });
    return c.body(null, 204);
  });
}
