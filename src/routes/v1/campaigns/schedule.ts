import { defineRoute, type Handler, type RequestBody, type ResponseBody } from "../../define";
import { CampaignSchema, ScheduleBody } from "../../../campaigns/schema";
import { scheduleCampaign } from "../../../campaigns/transitions";
import { IdParam } from "../../../lib/schemas";
import { changeCampaign } from "./actions";

export const route = defineRoute("post", "/{id}/schedule", "campaigns:write", {
  summary: "Schedule a draft to launch at scheduled_at; the cron launches it when due",
  request: { params: IdParam, body: ScheduleBody },
  responses: [[200, CampaignSchema, "The scheduled campaign"], 404, 409],
});

export const handler: Handler<typeof route> = async (c) => {
  const { tenantId } = c.var.principal;
  const at = new Date(c.req.valid("json").scheduled_at);
  const campaign = await changeCampaign(c.var.db, tenantId, c.req.valid("param").id, (id) => scheduleCampaign(c.var.db, tenantId, id, at));
  return c.json(campaign, 200);
};

export type ScheduleCampaignBody = RequestBody<typeof route>;
export type ScheduleCampaignResponse = ResponseBody<typeof route>;
