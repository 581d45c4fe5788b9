import { z } from "@hono/zod-openapi";
import { defineRoute, type Handler, type ResponseBody } from "../../define";
import { CAMPAIGN_STATES } from "../../../campaigns/machine";
import { CampaignSchema } from "../../../campaigns/schema";
import { listCampaigns } from "../../../campaigns/store/campaign-reads";
import { PageQuery, pageOf } from "../../../lib/schemas";

const CampaignListQuery = PageQuery.extend({
  state: z
    .enum(CAMPAIGN_STATES)
    .optional()
    .openapi({ param: { name: "state", in: "query" } }),
});

export const route = defineRoute("get", "/", "campaigns:read", {
  summary: "List campaigns, newest first",
  request: { query: CampaignListQuery },
  responses: [[200, pageOf(CampaignSchema, "CampaignPage"), "A page of campaigns"]],
});

export const handler: Handler<typeof route> = async (c) => {
  const { state, ...page } = c.req.valid("query");
  return c.json(await listCampaigns(c.var.db, c.var.principal.tenantId, page, state), 200);
};

export type ListCampaignsResponse = ResponseBody<typeof route>;
