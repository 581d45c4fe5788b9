import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { and, desc, eq, lt } from "drizzle-orm";
import { webhookEndpoints } from "../../../db/schema";
import type { HonoEnv } from "../../../env";
import { cursorId, encodeCursor, PageQuery, pageOf, problems } from "../../../lib/schemas";
import { requireScope } from "../../../middleware/auth";
import { toEndpointDto, WebhookEndpointSchema } from "./schema";

const route = createRoute({
  method: "get",
  path: "/",
  tags: ["webhooks"],
  summary: "List the tenant's webhook endpoints, newest first",
  security: [{ bearerAuth: [] }],
  middleware: [requireScope("webhooks:read")] as const,
  request: { query: PageQuery },
  responses: {
    200: { description: "A page of endpoints", content: { "application/json": { schema: pageOf(WebhookEndpointSchema, "WebhookEndpointPage") } } },
    ...problems(401, 403, 422),
  },
});

export function registerList(api: OpenAPIHono<HonoEnv>) {
  api.openapi(route, async (c) => {
    const { cursor, limit } = c.req.valid("query");
    const after = cursorId(cursor);
    const tenant = eq(webhookEndpoints.tenantId, c.var.principal.tenantId);
    const rows = await c.var.db
      .select()
      .from(webhookEndpoints)
      .where(after ? and(tenant, lt(webhookEndpoints.id, after)) : tenant)
      .orderBy(desc(webhookEndpoints.id))
      .limit(limit + 1);
    const page = rows.slice(0, limit);
    const next = rows.length > limit ? encodeCursor(page[page.length - 1]!.id) : null;
    return c.json({ data: page.map(toEndpointDto), next_cursor: next }, 200);
  });
}
