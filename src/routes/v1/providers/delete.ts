import { defineRoute, type Handler } from "../../define";
import { HeraldError } from "../../../errors";
import { IdParam } from "../../../lib/schemas";
import { providerCacheKey } from "../../../providers/registry";
import { liveCampaignUsing } from "../../../campaigns/store/campaign-reads";
import { deleteProvider, findProvider } from "../../../providers/rows";

export const route = defineRoute("delete", "/{id}", "providers:write", {
  summary: "Delete a provider. One that a live campaign sends through is a 409: disable it instead.",
  request: { params: IdParam },
  responses: [[204, "Deleted"], 404, 409],
});

export const handler: Handler<typeof route> = async (c) => {
  const { tenantId } = c.var.principal;
  const existing = await findProvider(c.var.db, tenantId, c.req.valid("param").id);
  const live = await liveCampaignUsing(c.var.db, tenantId, existing.id);
  if (live) {
    throw new HeraldError("conflict", `campaign ${live.id} still sends through this provider; disable the provider instead`);
  }
  await deleteProvider(c.var.db, tenantId, existing.id);
  await c.var.cache.delete(providerCacheKey(c.var.principal.tenantId, existing.id));
  c.var.logger.info("provider deleted", { provider_id: existing.id });
  return c.body(null, 204);
};
