import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { and, desc, eq, lt } from "drizzle-orm";
import { apiKeys } from "../../../db/schema";
import type { HonoEnv } from "../../../env";
import { cursorId, encodeCursor, PageQuery, pageOf, problems } from "../../../lib/schemas";
import { requireScope } from "../../../middleware/auth";
import { ApiKeySchema, toApiKeyDto } from "../../../api-keys/schema";

const route = createRoute({
  method: "get",
  path: "/",
  tags: ["api-keys"],
  summary: "List the tenant's API keys, newest first (revoked keys included)",
  security: [{ bearerAuth: [] }],
  middleware: [requireScope("api_keys:read")] as const,
  request: { query: PageQuery },
  responses: {
    200: { description: "A page of keys", content: { "application/json": { schema: pageOf(ApiKeySchema, "ApiKeyPage") } } },
    ...problems(401, 403, 422),
  },
});

export function registerList(api: OpenAPIHono<HonoEnv>) {
  api.openapi(route, async (c) => {
    const { cursor, limit } = c.req.valid("query");
    const after = cursorId(cursor);
    const tenant = eq(apiKeys.tenantId, c.var.principal.tenantId);
    const rows = await c.var.db
      .select()
      .from(apiKeys)
      .where(after ? and(tenant, lt(apiKeys.id, after)) : tenant)
      .orderBy(desc(apiKeys.id))
      .limit(limit + 1);
    const page = rows.slice(0, limit);
    const next = rows.length > limit ? encodeCursor(page[page.length - 1]!.id) : null;
    return c.json({ data: page.map(toApiKeyDto), next_cursor: next }, 200);
  });
}
