import { defineRoute, type Handler, type ResponseBody } from "../../define";
import { CampaignSchema } from "../../../campaigns/schema";
import { cancelCampaign } from "../../../campaigns/transitions";
import { IdParam } from "../../../lib/schemas";
import { changeCampaign } from "./actions";

export const route = defineRoute("post", "/{id}/cancel", "campaigns:write", {
  summary: "Cancel; nothing more is sent",
  request: { params: IdParam },
  responses: [[200, CampaignSchema, "The campaign"], 404, 409],
});

export const handler: Handler<typeof route> = async (c) => {
  const { tenantId } = c.var.principal;
  const campaign = await changeCampaign(c.var.db, tenantId, c.req.valid("param").id, (id) => cancelCampaign(c.var.db, c.env, tenantId, id));
  return c.json(campaign, 200);
};

export type CancelCampaignResponse = ResponseBody<typeof route>;
