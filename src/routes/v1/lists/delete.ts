import { defineRoute, type Handler } from "../../define";
import { IdParam } from "../../../lib/schemas";
import { deleteList } from "../../../lists/store";

export const route = defineRoute("delete", "/{id}", "contacts:write", {
  summary: "Delete a list; its contacts stay, only their membership goes",
  request: { params: IdParam },
  responses: [[204, "Deleted"], 404],
});

export const handler: Handler<typeof route> = async (c) => {
  const id = await deleteList(c.var.db, c.var.principal.tenantId, c.req.valid("param").id);
  c.var.logger.info("list deleted", { list_id: id });
  return c.body(null, 204);
};
