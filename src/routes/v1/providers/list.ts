import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { and, desc, eq, lt } from "drizzle-orm";
import { providers } from "../../../db/schema";
import type { HonoEnv } from "../../../env";
import { cursorId, encodeCursor, PageQuery, pageOf, problems } from "../../../lib/schemas";
import { requireScope } from "../../../middleware/auth";
import { ProviderSchema, toProviderDto } from "./schema";

const route = createRoute({
  method: "get",
  path: "/",
  tags: ["providers"],
  summary: "List the tenant's providers, newest first",
  security: [{ bearerAuth: [] }],
  middleware: [requireScope("providers:read")] as const,
  request: { query: PageQuery },
  responses: {
    200: { description: "A page of providers", content: { "application/json": { schema: pageOf(ProviderSchema, "ProviderPage") } } },
    ...problems(401, 403, 422),
  },
});

export function registerList(api: OpenAPIHono<HonoEnv>) {
  api.openapi(route, async (c) => {
    const { cursor, limit } = c.req.valid("query");
    const after = cursorId(cursor);
    const tenant = eq(providers.tenantId, c.var.principal.tenantId);
    const rows = await c.var.db
      .select()
      .from(providers)
      .where(after ? and(tenant, lt(providers.id, after)) : tenant)
      .orderBy(desc(providers.id))
      .limit(limit + 1);
    const page = rows.slice(0, limit);
    const next = rows.length > limit ? encodeCursor(page[page.length - 1]!.id) : null;
    return c.json({ data: page.map(toProviderDto), next_cursor: next }, 200);
  });
}
