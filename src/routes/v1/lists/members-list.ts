import { defineRoute, type Handler, type ResponseBody } from "../../define";
import { ContactSchema, toContactDto } from "../../../contacts/schema";
import { IdParam, PageQuery, pageOf } from "../../../lib/schemas";
import { memberPage } from "../../../lists/store";

export const route = defineRoute("get", "/{id}/members", "contacts:read", {
  summary: "List the contacts on a list, newest contact first",
  request: { params: IdParam, query: PageQuery },
  responses: [[200, pageOf(ContactSchema, "ListMemberPage"), "A page of contacts"], 404],
});

export const handler: Handler<typeof route> = async (c) => {
  const page = await memberPage(c.var.db, c.var.principal.tenantId, c.req.valid("param").id, c.req.valid("query"), toContactDto);
  return c.json(page, 200);
};

export type ListListMembersResponse = ResponseBody<typeof route>;
