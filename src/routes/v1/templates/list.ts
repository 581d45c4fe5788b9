import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { desc } from "drizzle-orm";
import { templates } from "../../../db/schema";
import type { HonoEnv } from "../../../env";
import { idPage, tenantRowsBefore } from "../../../lib/keyset";
import { PageQuery, pageOf, problems } from "../../../lib/schemas";
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
    const { tenantId } = c.var.principal;
    // Bodies can be 512 KB each; a page of them would be tens of megabytes.
    const fetch = (after: string | undefined, take: number) =>
      c.var.db
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
        .where(tenantRowsBefore(templates, tenantId, after))
        .orderBy(desc(templates.id))
        .limit(take);
    return c.json(await idPage(c.req.valid("query"), fetch, toTemplateSummaryDto), 200);
  });
}
