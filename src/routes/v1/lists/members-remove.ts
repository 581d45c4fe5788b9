import { defineRoute, type Handler } from "../../define";
import { HeraldError } from "../../../errors";
import { uuidOr404 } from "../../../lib/schemas";
import { findList, removeMember } from "../../../lists/store";
import { ListMemberParams } from "./schema";

export const route = defineRoute("delete", "/{id}/members/{contact_id}", "contacts:write", {
  summary: "Take a contact off a list; the contact itself stays",
  request: { params: ListMemberParams },
  responses: [[204, "Removed"], 404],
});

export const handler: Handler<typeof route> = async (c) => {
  const { tenantId } = c.var.principal;
  const params = c.req.valid("param");
  const list = await findList(c.var.db, tenantId, params.id);
  const notMember = new HeraldError("not_found", "that contact is not on this list");
  const contactId = uuidOr404(params.contact_id, () => notMember);
  if (!(await removeMember(c.var.db, tenantId, list.id, contactId))) throw notMember;
  return c.body(null, 204);
};
