import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { etag } from "hono/etag";
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
  // ETag answers If-None-Match with 304; the client must revalidate every time (no-cache).
  middleware: [requireScope("campaigns:read"), etag({ weak: true })] as const,
  request: { params: IdParam },
  responses: {
    200: { description: "The campaign", content: { "application/json": { schema: CampaignSchema } } },
    ...problems(401, 403, 404),
  },
});

export function registerGet(api: OpenAPIHono<HonoEnv>) {
  api.openapi(get, async (c) => {
    c.header("cache-control", "private, no-cache");
    return c.json(toCampaignDto(await findCampaign(c.var.db, c.var.principal.tenantId, c.req.valid("param").id)), 200);
  });
}
