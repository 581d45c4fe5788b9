import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import { CAMPAIGN_STATES } from "../../../campaigns/machine";
import { campaigns } from "../../../db/schema";
import type { HonoEnv } from "../../../env";
import { newestFirst } from "../../../lib/keyset";
import { PageQuery, pageOf, problems } from "../../../lib/schemas";
import { requireScope } from "../../../middleware/auth";
import { CampaignSchema, toCampaignDto } from "./schema";

const list = createRoute({
  method: "get",
  path: "/",
  tags: ["campaigns"],
  security: [{ bearerAuth: [] }],
  summary: "List campaigns, newest first",
  middleware: [requireScope("campaigns:read")] as const,
  request: {
    query: PageQuery.extend({
      state: z
        .enum(CAMPAIGN_STATES)
        .optional()
        .openapi({ param: { name: "state", in: "query" } }),
    }),
  },
  responses: {
    200: { description: "A page of campaigns", content: { "application/json": { schema: pageOf(CampaignSchema, "CampaignPage") } } },
    ...problems(401, 403, 422),
  },
});

export function registerList(api: OpenAPIHono<HonoEnv>) {
  api.openapi(list, async (c) => {
    const { state, ...page } = c.req.valid("query");
    return c.json(
      await newestFirst(c.var.db, campaigns, c.var.principal.tenantId, page, toCampaignDto, state ? eq(campaigns.state, state) : undefined),
      200,
    );
  });
}
