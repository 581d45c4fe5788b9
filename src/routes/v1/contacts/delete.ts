import { defineRoute, type Handler } from "../../define";
import { IdParam } from "../../../lib/schemas";
import { deleteContact } from "../../../contacts/store";

export const route = defineRoute("delete", "/{id}", "contacts:write", {
  summary: "Delete a contact and its list memberships. Suppressions stay: they are keyed by address.",
  request: { params: IdParam },
  responses: [[204, "Deleted"], 404],
});

export const handler: Handler<typeof route> = async (c) => {
  const id = await deleteContact(c.var.db, c.var.principal.tenantId, c.req.valid("param").id);
  c.var.logger.info("contact deleted", { contact_id: id });
  return c.body(null, 204);
};
