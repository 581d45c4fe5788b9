import { defineRoute, type Handler, type ResponseBody } from "../../define";
import { launchCampaign } from "../../../campaigns/launch";
import { campaignIdOf } from "../../../campaigns/store/campaign-reads";
import { IdParam } from "../../../lib/schemas";
import { ACCEPTED, AcceptedSchema, progressUrl } from "./actions";

export const route = defineRoute("post", "/{id}/launch", "campaigns:write", {
  summary: "Launch now: answers 202 at once, whatever the audience size",
  request: { params: IdParam },
  responses: [[202, AcceptedSchema, ACCEPTED], 404, 409],
});

export const handler: Handler<typeof route> = async (c) => {
  const id = campaignIdOf(c.req.valid("param").id);
  const launched = await launchCampaign(c.var.db, c.env, c.var.principal.tenantId, id);
  c.var.logger.info("campaign launched", { campaign_id: id, total: launched.total });
  return c.json({ id, state: launched.state, total: launched.total, progress_url: progressUrl(id) }, 202);
};

export type LaunchCampaignResponse = ResponseBody<typeof route>;
