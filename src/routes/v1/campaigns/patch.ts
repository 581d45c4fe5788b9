import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { and, eq, inArray } from "drizzle-orm";
import { allowedFrom, canDo } from "../../../campaigns/machine";
import { campaigns } from "../../../db/schema";
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
  responses: { 200: { description: "The campaign", content: { "application/json": { schema: CampaignSchema } } }, ...problems(400, 401, 403, 404, 409, 415, 422) },
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
    const [row] = await c.var.db
      .update(campaigns)
      .set({ ...campaignColumns(body), updatedAt: new Date() })
      .where(and(eq(campaigns.tenantId, tenantId), eq(campaigns.id, existing.id), inArray(campaigns.state, [...allowedFrom("edit")])))
      .returning();
    if (!row) throw new HeraldError("conflict", "the campaign changed state meanwhile; reload it");
    return c.json(toCampaignDto(row), 200);
  });
}
