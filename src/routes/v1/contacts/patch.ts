import { defineRoute, type Handler, type RequestBody, type ResponseBody } from "../../define";
import { and, eq, sql } from "drizzle-orm";
import { contacts } from "../../../db/schema";
import { HeraldError } from "../../../errors";
import { IdParam } from "../../../lib/schemas";
import { pgErrorCode, UNIQUE_VIOLATION } from "../../../lib/pg-error";
import { ContactSchema, toContactDto, UpdateContactBody } from "../../../contacts/schema";
import { emailTaken, findContact } from "../../../contacts/store";

export const route = defineRoute("patch", "/{id}", "contacts:write", {
  summary: "Change a contact's email, name, attributes (replaced whole) or status",
  params: IdParam,
  body: UpdateContactBody,
  ok: [200, ContactSchema, "The updated contact"],
  errors: [404, 409],
});

export const handler: Handler<typeof route> = async (c) => {
  const { tenantId } = c.var.principal;
  const existing = await findContact(c.var.db, tenantId, c.req.valid("param").id);
  const body = c.req.valid("json");
  let row;
  try {
    [row] = await c.var.db
      .update(contacts)
      .set({
        ...(body.email !== undefined && { email: body.email }),
        ...(body.name !== undefined && { name: body.name }),
        ...(body.attributes !== undefined && { attributes: body.attributes }),
        ...(body.status !== undefined && { status: body.status }),
        updatedAt: sql`now()`,
      })
      .where(and(eq(contacts.tenantId, tenantId), eq(contacts.id, existing.id)))
      .returning();
  } catch (err) {
    if (pgErrorCode(err) === UNIQUE_VIOLATION && body.email) throw emailTaken(body.email);
    throw err;
  }
  if (!row) throw new HeraldError("not_found", "no such contact");
  return c.json(toContactDto(row), 200);
};

export type PatchContactBody = RequestBody<typeof route>;
export type PatchContactResponse = ResponseBody<typeof route>;
