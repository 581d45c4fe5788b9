import { defineRoute, type Handler } from "../../define";
import { IdParam } from "../../../lib/schemas";
import { deleteTemplate, templateCacheKey } from "../../../templates/store";

export const route = defineRoute("delete", "/{id}", "templates:write", {
  summary: "Delete a template; campaigns already launched keep the snapshot they took",
  request: { params: IdParam },
  responses: [[204, "Deleted"], 404],
});

export const handler: Handler<typeof route> = async (c) => {
  const id = await deleteTemplate(c.var.db, c.var.principal.tenantId, c.req.valid("param").id);
  await c.var.cache.delete(templateCacheKey(c.var.principal.tenantId, id));
  c.var.logger.info("template deleted", { template_id: id });
  return c.body(null, 204);
};
