import { defineRoute, type Handler } from "../../define";
import { findCampaign } from "../../../campaigns/store/campaign-reads";
import { deleteCampaignRow } from "../../../campaigns/store/campaign-rows";
import { HeraldError } from "../../../errors";
import { IdParam } from "../../../lib/schemas";

export const route = defineRoute("delete", "/{id}", "campaigns:write", {
  summary: "Delete a campaign that is not running (draft, cancelled, completed or failed)",
  request: { params: IdParam },
  responses: [[204, "Deleted"], 404, 409],
});

export const handler: Handler<typeof route> = async (c) => {
  const { tenantId } = c.var.principal;
  const existing = await findCampaign(c.var.db, tenantId, c.req.valid("param").id);
  if (!(await deleteCampaignRow(c.var.db, tenantId, existing.id))) {
    throw new HeraldError("conflict", `a ${existing.state} campaign cannot be deleted; cancel it first`, {
      extensions: { state: existing.state },
    });
  }
  return c.body(null, 204);
};
