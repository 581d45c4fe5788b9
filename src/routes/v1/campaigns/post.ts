import { defineRoute, type Handler, type RequestBody, type ResponseBody } from "../../define";
import { CampaignSchema, campaignColumns, CreateCampaignBody, toCampaignDto } from "../../../campaigns/schema";
import { checkReferences } from "../../../campaigns/store/campaign-reads";
import { createCampaignRow } from "../../../campaigns/store/campaign-rows";

export const route = defineRoute("post", "/", "campaigns:write", {
  summary: "Create a draft campaign",
  request: { body: CreateCampaignBody },
  responses: [[201, CampaignSchema, "The draft"]],
});

export const handler: Handler<typeof route> = async (c) => {
  const body = c.req.valid("json");
  const { tenantId } = c.var.principal;
  await checkReferences(c.var.db, tenantId, body);
  const row = await createCampaignRow(c.var.db, tenantId, campaignColumns(body));
  return c.json(toCampaignDto(row), 201);
};

export type PostCampaignBody = RequestBody<typeof route>;
export type PostCampaignResponse = ResponseBody<typeof route>;
