import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { canDo } from "../../../campaigns/machine";
import { editCampaignRow } from "../../../campaigns/store/campaign-rows";
import type { HonoEnv } from "../../../env";
import { HeraldError } from "../../../errors";
import { IdParam, problems } from "../../../lib/schemas";
import { requireScope } from "../../../middleware/auth";
import { CampaignSchema, toCampaignDto, UpdateCampaignBody } from "./schema";
import { campaignColumns, checkReferences, findCampaign } from "./store";

const update = createRoute({
  method: "patch",
  path: "/{id}",
  tags: ["campaigns"],
  security: [{ bearerAuth: [] }],
  summary: "Change a draft or scheduled campaign",
  middleware: [requireScope("campaigns:write")] as const,
  request: { params: IdParam, body: { required: true, content: { "application/json": { schema: UpdateCampaignBody } } } },
  responses: {
    200: { description: "The campaign", content: { "application/json": { schema: CampaignSchema } } },
    ...problems(400, 401, 403, 404, 409, 415, 422),
  },
});

export function registerPatch(api: OpenAPIHono<HonoEnv>) {
  api.openapi(update, async (c) => {
    const body = c.req.valid("json");
    const tenantId = c.var.principal.tenantId;
    const existing = await findCampaign(c.var.db, tenantId, c.req.valid("param").id);
    if (!canDo("edit", existing.state)) {
      throw new HeraldError("conflict", `a ${existing.state} campaign cannot be changed`, { extensions: { state: existing.state } });
    }
    await checkReferences(c.var.db, tenantId, body);
    const row = await editCampaignRow(c.var.db, tenantId, existing.id, campaignColumns(body));
    if (!row) throw new HeraldError("conflict", "the campaign changed state meanwhile; reload it");
    return c.json(toCampaignDto(row), 200);
  });
}
