import { deleteByIdRoute } from "../../define";
import { deleteList } from "../../../lists/store";

export const { route, handler } = deleteByIdRoute(
  "contacts:write",
  "Delete a list; its contacts stay, only their membership goes",
  async (c, id) => {
    const deleted = await deleteList(c.var.db, c.var.principal.tenantId, id);
    c.var.logger.info("list deleted", { list_id: deleted });
  },
);
