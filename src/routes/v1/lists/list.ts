import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { lists } from "../../../db/schema";
import type { HonoEnv } from "../../../env";
import { newestFirst } from "../../../lib/keyset";
import { PageQuery, pageOf, problems } from "../../../lib/schemas";
import { requireScope } from "../../../middleware/auth";
import { ListSummarySchema, toListSummaryDto } from "./schema";

const route = createRoute({
  method: "get",
  path: "/",
  tags: ["lists"],
  summary: "List the tenant's lists, newest first (GET /v1/lists/{id} has the member count)",
  security: [{ bearerAuth: [] }],
  middleware: [requireScope("contacts:read")] as const,
  request: { query: PageQuery },
  responses: {
    200: { description: "A page of lists", content: { "application/json": { schema: pageOf(ListSummarySchema, "ListPage") } } },
    ...problems(401, 403, 422),
  },
});

export function registerList(api: OpenAPIHono<HonoEnv>) {
  api.openapi(route, async (c) =>
    c.json(await newestFirst(c.var.db, lists, c.var.principal.tenantId, c.req.valid("query"), toListSummaryDto), 200),
  );
}
