import { defineRoute, type Handler, type ResponseBody } from "../../define";
import { pageOf } from "../../../lib/schemas";
import { ContactListQuery, ContactSchema } from "../../../contacts/schema";
import { listContacts } from "../../../contacts/store";

export const route = defineRoute("get", "/", "contacts:read", {
  summary: "List the tenant's contacts, newest first, optionally filtered by status or email",
  request: { query: ContactListQuery },
  responses: [[200, pageOf(ContactSchema, "ContactPage"), "A page of contacts"]],
});

export const handler: Handler<typeof route> = async (c) => {
  const { status, email, ...page } = c.req.valid("query");
  return c.json(await listContacts(c.var.db, c.var.principal.tenantId, page, { status, email }), 200);
};

export type ListContactsResponse = ResponseBody<typeof route>;
