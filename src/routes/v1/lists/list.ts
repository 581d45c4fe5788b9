import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { and, desc, eq, lt } from "drizzle-orm";
import { lists } from "../../../db/schema";
import type { HonoEnv } from "../../../env";
import { cursorId, encodeCursor, PageQuery, pageOf, problems } from "../../../lib/schemas";
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
  api.openapi(route, async (c) => {
    const { cursor, limit } = c.req.valid("query");
    const after = cursorId(cursor);
    const tenant = eq(lists.tenantId, c.var.principal.tenantId);
    const rows = await c.var.db
      .select()
      .from(lists)
      .where(after ? and(tenant, lt(lists.id, after)) : tenant)
      .orderBy(desc(lists.id))
      .limit(limit + 1);
    const page = rows.slice(0, limit);
    const next = rows.length > limit ? encodeCursor(page[page.length - 1]!.id) : null;
    return c.json({ data: page.map(toListSummaryDto), next_cursor: next }, 200);
  });
}
