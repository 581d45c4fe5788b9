import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { createCampaignRow } from "../../../campaigns/store/campaign-rows";
import type { HonoEnv } from "../../../env";
import { problems } from "../../../lib/schemas";
import { requireScope } from "../../../middleware/auth";
import { CampaignSchema, CreateCampaignBody, toCampaignDto } from "./schema";
import { campaignColumns, checkReferences } from "./store";

const create = createRoute({
  method: "post",
  path: "/",
  tags: ["campaigns"],
  security: [{ bearerAuth: [] }],
  summary: "Create a draft campaign",
  middleware: [requireScope("campaigns:write")] as const,
  request: { body: { required: true, content: { "application/json": { schema: CreateCampaignBody } } } },
  responses: {
    201: { description: "The draft", content: { "application/json": { schema: CampaignSchema } } },
    ...problems(400, 401, 403, 413, 415, 422),
  },
});

export function registerPost(api: OpenAPIHono<HonoEnv>) {
  api.openapi(create, async (c) => {
    const body = c.req.valid("json");
    const tenantId = c.var.principal.tenantId;
    await checkReferences(c.var.db, tenantId, body);
    const row = await createCampaignRow(c.var.db, tenantId, campaignColumns(body));
    return c.json(toCampaignDto(row), 201);
  });
}
