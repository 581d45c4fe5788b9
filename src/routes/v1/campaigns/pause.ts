import { defineRoute, type Handler, type ResponseBody } from "../../define";
import { CampaignSchema } from "../../../campaigns/schema";
import { pauseCampaign } from "../../../campaigns/transitions";
import { IdParam } from "../../../lib/schemas";
import { changeCampaign } from "./actions";

export const route = defineRoute("post", "/{id}/pause", "campaigns:write", {
  summary: "Pause sending; batches in flight finish, nothing new is sent",
  request: { params: IdParam },
  responses: [[200, CampaignSchema, "The campaign"], 404, 409],
});

export const handler: Handler<typeof route> = async (c) => {
  const { tenantId } = c.var.principal;
  const campaign = await changeCampaign(c.var.db, tenantId, c.req.valid("param").id, (id) => pauseCampaign(c.var.db, c.env, tenantId, id));
  return c.json(campaign, 200);
};

export type PauseCampaignResponse = ResponseBody<typeof route>;
