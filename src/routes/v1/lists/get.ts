import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import type { HonoEnv } from "../../../env";
import { IdParam, problems } from "../../../lib/schemas";
import { requireScope } from "../../../middleware/auth";
import { ListSchema, toListDto } from "./schema";
import { findList, memberCount } from "../../../lists/store";

const route = createRoute({
  method: "get",
  path: "/{id}",
  tags: ["lists"],
  summary: "Get one list with its member count",
  security: [{ bearerAuth: [] }],
  middleware: [requireScope("contacts:read")] as const,
  request: { params: IdParam },
  responses: {
    200: { description: "The list", content: { "application/json": { schema: ListSchema } } },
    ...problems(401, 403, 404),
  },
});

export function registerGet(api: OpenAPIHono<HonoEnv>) {
  api.openapi(route, async (c) => {
    const { tenantId } = c.var.principal;
    const row = await findList(c.var.db, tenantId, c.req.valid("param").id);
    return c.json(toListDto(row, await memberCount(c.var.db, tenantId, row.id)), 200);
  });
}
