import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { and, desc, eq, lt } from "drizzle-orm";
import { templates } from "../../../db/schema";
import type { HonoEnv } from "../../../env";
import { cursorId, encodeCursor, PageQuery, pageOf, problems } from "../../../lib/schemas";
import { requireScope } from "../../../middleware/auth";
import { TemplateSummarySchema, toTemplateSummaryDto } from "./schema";

const route = createRoute({
  method: "get",
  path: "/",
  tags: ["templates"],
  summary: "List the tenant's templates, newest first, without their bodies (GET one for html and text)",
  security: [{ bearerAuth: [] }],
  middleware: [requireScope("templates:read")] as const,
  request: { query: PageQuery },
  responses: {
    200: { description: "A page of templates", content: { "application/json": { schema: pageOf(TemplateSummarySchema, "TemplatePage") } } },
    ...problems(401, 403, 422),
  },
});

export function registerList(api: OpenAPIHono<HonoEnv>) {
  api.openapi(route, async (c) => {
    const { cursor, limit } = c.req.valid("query");
    const after = cursorId(cursor);
    const tenant = eq(templates.tenantId, c.var.principal.tenantId);
    // Bodies can be 512 KB each; a page of them would be tens of megabytes.
    const rows = await c.var.db
      .select({
        id: templates.id,
        name: templates.name,
        subject: templates.subject,
        version: templates.version,
        variables: templates.variables,
        createdAt: templates.createdAt,
        updatedAt: templates.updatedAt,
      })
      .from(templates)
      .where(after ? and(tenant, lt(templates.id, after)) : tenant)
      .orderBy(desc(templates.id))
      .limit(limit + 1);
    const page = rows.slice(0, limit);
    const next = rows.length > limit ? encodeCursor(page[page.length - 1]!.id) : null;
    return c.json({ data: page.map(toTemplateSummaryDto), next_cursor: next }, 200);
  });
}
