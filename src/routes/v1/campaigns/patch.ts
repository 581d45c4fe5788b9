import { defineRoute, type Handler, type RequestBody, type ResponseBody } from "../../define";
import { canDo } from "../../../campaigns/machine";
import { CampaignSchema, campaignColumns, toCampaignDto, UpdateCampaignBody } from "../../../campaigns/schema";
import { checkReferences, findCampaign } from "../../../campaigns/store/campaign-reads";
import { editCampaignRow } from "../../../campaigns/store/campaign-rows";
import { HeraldError } from "../../../errors";
import { IdParam } from "../../../lib/schemas";

export const route = defineRoute("patch", "/{id}", "campaigns:write", {
  summary: "Change a draft or scheduled campaign",
  request: { params: IdParam, body: UpdateCampaignBody },
  responses: [[200, CampaignSchema, "The campaign"], 404, 409],
});

export const handler: Handler<typeof route> = async (c) => {
  const body = c.req.valid("json");
  const { tenantId } = c.var.principal;
  const existing = await findCampaign(c.var.db, tenantId, c.req.valid("param").id);
  if (!canDo("edit", existing.state)) {
    throw new HeraldError("conflict", `a ${existing.state} campaign cannot be changed`, { extensions: { state: existing.state } });
  }
  await checkReferences(c.var.db, tenantId, body);
  const row = await editCampaignRow(c.var.db, tenantId, existing.id, campaignColumns(body));
  if (!row) throw new HeraldError("conflict", "the campaign changed state meanwhile; reload it");
  return c.json(toCampaignDto(row), 200);
};

export type PatchCampaignBody = RequestBody<typeof route>;
export type PatchCampaignResponse = ResponseBody<typeof route>;
