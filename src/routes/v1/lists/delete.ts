import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { and, eq } from "drizzle-orm";
import { lists } from "../../../db/schema";
import type { HonoEnv } from "../../../env";
import { isUuid } from "../../../lib/ids";
import { IdParam, problems } from "../../../lib/schemas";
import { requireScope } from "../../../middleware/auth";
import { noSuchList } from "../../../lists/store";

const route = createRoute({
  method: "delete",
  path: "/{id}",
  tags: ["lists"],
  summary: "Delete a list; its contacts stay, only their membership goes",
  security: [{ bearerAuth: [] }],
  middleware: [requireScope("contacts:write")] as const,
  request: { params: IdParam },
  responses: {
    204: { description: "Deleted" },
    ...problems(401, 403, 404),
  },
});

export function registerDelete(api: OpenAPIHono<HonoEnv>) {
  api.openapi(route, async (c) => {
    const { id } = c.req.valid("param");
    if (!isUuid(id)) throw noSuchList();
    const deleted = await c.var.db
      .delete(lists)
      .where(and(eq(lists.tenantId, c.var.principal.tenantId), eq(lists.id, id.toLowerCase())))
      .returning({ id: lists.id });
    if (deleted.length === 0) throw noSuchList();
    c.var.logger.info("list deleted", { list_id: deleted[0]!.id });
    return c.body(null, 204);
  });
}
