import type { OpenAPIHono } from "@hono/zod-openapi";
import { lists } from "../../../db/schema";
import type { HonoEnv } from "../../../env";
import { noSuchList } from "../../../lists/store";
import { deleteByIdRoute } from "../../../lib/schemas";
import { deleteTenantRow } from "../../../lib/tenant-rows";
import { requireScope } from "../../../middleware/auth";

const route = deleteByIdRoute("lists", "Delete a list; its contacts stay, only their membership goes", requireScope("contacts:write"));

export function registerDelete(api: OpenAPIHono<HonoEnv>) {
  api.openapi(route, async (c) => {
    const id = await deleteTenantRow(c.var.db, lists, c.var.principal.tenantId, c.req.valid("param").id, noSuchList);
    c.var.logger.info("list deleted", { list_id: id });
    return c.body(null, 204);
  });
}
