import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { and, desc, eq, lt } from "drizzle-orm";
import { CAMPAIGN_STATES } from "../../../campaigns/machine";
import { campaigns } from "../../../db/schema";
import type { HonoEnv } from "../../../env";
import { cursorId, encodeCursor, PageQuery, pageOf, problems } from "../../../lib/schemas";
import { requireScope } from "../../../middleware/auth";
import { CampaignSchema, toCampaignDto } from "./schema";

const list = createRoute({
  method: "get",
  path: "/",
  tags: ["campaigns"],
  security: [{ bearerAuth: [] }],
  summary: "List campaigns, newest first",
  middleware: [requireScope("campaigns:read")] as const,
  request: { query: PageQuery.extend({ state: z.enum(CAMPAIGN_STATES).optional().openapi({ param: { name: "state", in: "query" } }) }) },
  responses: { 200: { description: "A page of campaigns", content: { "application/json": { schema: pageOf(CampaignSchema, "CampaignPage") } } }, ...problems(401, 403, 422) },
});

export function registerList(api: OpenAPIHono<HonoEnv>) {
  api.openapi(list, async (c) => {
    const { cursor, limit, state } = c.req.valid("query");
    const after = cursorId(cursor);
    const conditions = [eq(campaigns.tenantId, c.var.principal.tenantId)];
    if (after) conditions.push(lt(campaigns.id, after));
    if (state) conditions.push(eq(campaigns.state, state));
    const rows = await c.var.db.select().from(campaigns).where(and(...conditions)).orderBy(desc(campaigns.id)).limit(limit + 1);
    const page = rows.slice(0, limit);
    return c.json({ data: page.map(toCampaignDto), next_cursor: rows.length > limit ? encodeCursor(page[page.length - 1]!.id) : null }, 200);
  });
}
