import { etag } from "hono/etag";
import { defineRoute, type Handler, type ResponseBody } from "../../define";
import { CampaignSchema, toCampaignDto } from "../../../campaigns/schema";
import { findCampaign } from "../../../campaigns/store/campaign-reads";
import { IdParam } from "../../../lib/schemas";

export const route = defineRoute("get", "/{id}", "campaigns:read", {
  summary: "Get a campaign",
  // ETag answers If-None-Match with 304; the client must revalidate every time (no-cache).
  middleware: [etag({ weak: true })],
  request: { params: IdParam },
  responses: [[200, CampaignSchema, "The campaign"], 404],
});

export const handler: Handler<typeof route> = async (c) => {
  c.header("cache-control", "private, no-cache");
  return c.json(toCampaignDto(await findCampaign(c.var.db, c.var.principal.tenantId, c.req.valid("param").id)), 200);
};

export type GetCampaignResponse = ResponseBody<typeof route>;
