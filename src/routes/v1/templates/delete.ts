import { deleteByIdRoute } from "../../define";
import { deleteTemplate, templateCacheKey } from "../../../templates/store";

export const { route, handler } = deleteByIdRoute(
  "templates:write",
  "Delete a template; campaigns already launched keep the snapshot they took",
  async (c, id) => {
    const deleted = await deleteTemplate(c.var.db, c.var.principal.tenantId, id);
    await c.var.cache.delete(templateCacheKey(c.var.principal.tenantId, deleted));
    c.var.logger.info("template deleted", { template_id: deleted });
  },
);
