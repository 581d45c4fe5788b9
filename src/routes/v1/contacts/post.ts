import { defineRoute, type Handler, type RequestBody, type ResponseBody } from "../../define";
import { ContactSchema, CreateContactBody, toContactDto } from "../../../contacts/schema";
import { createContact } from "../../../contacts/store";

export const route = defineRoute("post", "/", "contacts:write", {
  summary: "Create a contact; an email already in the tenant is a 409",
  request: { body: CreateContactBody },
  responses: [[201, ContactSchema, "The new contact"], 409],
});

export const handler: Handler<typeof route> = async (c) => {
  const body = c.req.valid("json");
  const row = await createContact(c.var.db, c.var.principal.tenantId, {
    email: body.email,
    name: body.name ?? null,
    attributes: body.attributes ?? {},
    status: body.status,
  });
  return c.json(toContactDto(row), 201);
};

export type PostContactBody = RequestBody<typeof route>;
export type PostContactResponse = ResponseBody<typeof route>;
