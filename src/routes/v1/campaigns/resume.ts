import { defineRoute, type Handler, type ResponseBody } from "../../define";
import { campaignIdOf } from "../../../campaigns/store/campaign-reads";
import { resumeCampaign } from "../../../campaigns/transitions";
import { IdParam } from "../../../lib/schemas";
import { ACCEPTED, AcceptedSchema, progressUrl } from "./actions";

export const route = defineRoute("post", "/{id}/resume", "campaigns:write", {
  summary: "Resume a paused campaign where it stopped",
  request: { params: IdParam },
  responses: [[202, AcceptedSchema, ACCEPTED], 404, 409],
});

export const handler: Handler<typeof route> = async (c) => {
  const id = campaignIdOf(c.req.valid("param").id);
  await resumeCampaign(c.var.db, c.env, c.var.principal.tenantId, id);
  return c.json({ id, state: "sending", progress_url: progressUrl(id) }, 202);
};

export type ResumeCampaignResponse = ResponseBody<typeof route>;
