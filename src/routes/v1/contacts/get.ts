import { defineRoute, type Handler, type ResponseBody } from "../../define";
import { IdParam } from "../../../lib/schemas";
import { ContactSchema, toContactDto } from "../../../contacts/schema";
import { findContact } from "../../../contacts/store";

export const route = defineRoute("get", "/{id}", "contacts:read", {
  summary: "Get one contact",
  request: { params: IdParam },
  responses: [[200, ContactSchema, "The contact"], 404],
});

export const handler: Handler<typeof route> = async (c) => {
  const row = await findContact(c.var.db, c.var.principal.tenantId, c.req.valid("param").id);
  return c.json(toContactDto(row), 200);
};

export type GetContactResponse = ResponseBody<typeof route>;
