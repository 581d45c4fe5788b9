import { z } from "@hono/zod-openapi";
import { defineRoute, type Handler, type ResponseBody } from "../../define";
import { campaignIdOf } from "../../../campaigns/store/campaign-reads";
import { retryFailed } from "../../../campaigns/transitions";
import { IdParam } from "../../../lib/schemas";
import { ACCEPTED, AcceptedSchema, progressUrl } from "./actions";

const RetryQuery = z.object({
  include_unknown: z
    .enum(["true", "false"])
    .optional()
    .openapi({
      param: { name: "include_unknown", in: "query" },
      description:
        "Also retry recipients whose outcome is unknown (their batch may have reached the provider). MAY SEND TWICE: those recipients may get the mail a second time.",
    }),
});

export const route = defineRoute("post", "/{id}/retry-failed", "campaigns:write", {
  summary: "Send again to the failed recipients only; those whose outcome is unknown only with include_unknown=true (may send twice)",
  request: { params: IdParam, query: RetryQuery },
  responses: [[202, AcceptedSchema, ACCEPTED], 400, 404, 409],
});

export const handler: Handler<typeof route> = async (c) => {
  const id = campaignIdOf(c.req.valid("param").id);
  const includeUnknown = c.req.valid("query").include_unknown === "true";
  const retrying = await retryFailed(c.var.db, c.env, c.var.principal.tenantId, id, includeUnknown);
  return c.json({ id, state: "sending", retrying, progress_url: progressUrl(id) }, 202);
};

export type RetryFailedCampaignResponse = ResponseBody<typeof route>;
