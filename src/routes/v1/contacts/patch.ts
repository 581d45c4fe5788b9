import { defineRoute, type Handler, type RequestBody, type ResponseBody } from "../../define";
import { IdParam } from "../../../lib/schemas";
import { ContactSchema, toContactDto, UpdateContactBody } from "../../../contacts/schema";
import { findContact, updateContact } from "../../../contacts/store";

export const route = defineRoute("patch", "/{id}", "contacts:write", {
  summary: "Change a contact's email, name, attributes (replaced whole) or status",
  request: { params: IdParam, body: UpdateContactBody },
  responses: [[200, ContactSchema, "The updated contact"], 404, 409],
});

export const handler: Handler<typeof route> = async (c) => {
  const { tenantId } = c.var.principal;
  const existing = await findContact(c.var.db, tenantId, c.req.valid("param").id);
  const row = await updateContact(c.var.db, tenantId, existing.id, c.req.valid("json"));
  return c.json(toContactDto(row), 200);
};

export type PatchContactBody = RequestBody<typeof route>;
export type PatchContactResponse = ResponseBody<typeof route>;
