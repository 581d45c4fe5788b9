import { deleteByIdRoute } from "../../define";
import { deleteContact } from "../../../contacts/store";

export const { route, handler } = deleteByIdRoute(
  "contacts:write",
  "Delete a contact and its list memberships. Suppressions stay: they are keyed by address.",
  async (c, id) => {
    const deleted = await deleteContact(c.var.db, c.var.principal.tenantId, id);
    c.var.logger.info("contact deleted", { contact_id: deleted });
  },
);
