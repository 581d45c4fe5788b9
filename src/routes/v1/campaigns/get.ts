import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import type { HonoEnv } from "../../../env";
import { IdParam, problems } from "../../../lib/schemas";
import { requireScope } from "../../../middleware/auth";
import { CampaignSchema, toCampaignDto } from "./schema";
import { findCampaign } from "./store";

const get = createRoute({
  method: "get",
  path: "/{id}",
  tags: ["campaigns"],
  security: [{ bearerAuth: [] }],
  summary: "Get a campaign",
  middleware: [requireScope("campaigns:read")] as const,
  request: { params: IdParam },
  responses: { 200: { description: "The campaign", content: { "application/json": { schema: CampaignSchema } } }, ...problems(401, 403, 404) },
});

export function registerGet(api: OpenAPIHono<HonoEnv>) {
  api.openapi(get, async (c) => {
    return c.json(toCampaignDto(await findCampaign(c.var.db, c.var.principal.tenantId, c.req.valid("param").id)), 200);
  });
}
