import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { contacts } from "../../../db/schema";
import type { HonoEnv } from "../../../env";
import { uuidv7 } from "../../../lib/ids";
import { problems } from "../../../lib/schemas";
import { requireScope } from "../../../middleware/auth";
import { ContactSchema, CreateContactBody, toContactDto } from "../../../contacts/schema";
import { emailTaken } from "../../../contacts/store";

const route = createRoute({
  method: "post",
  path: "/",
  tags: ["contacts"],
  summary: "Create a contact; an email already in the tenant is a 409",
  security: [{ bearerAuth: [] }],
  middleware: [requireScope("contacts:write")] as const,
  request: { body: { required: true, content: { "application/json": { schema: CreateContactBody } } } },
  responses: {
    201: { description: "The new contact", content: { "application/json": { schema: ContactSchema } } },
    ...problems(400, 401, 403, 409, 413, 415, 422),
  },
});

export function registerPost(api: OpenAPIHono<HonoEnv>) {
  api.openapi(route, async (c) => {
    const body = c.req.valid("json");
    const [row] = await c.var.db
      .insert(contacts)
      .values({
        id: uuidv7(),
        tenantId: c.var.principal.tenantId,
        email: body.email,
        name: body.name ?? null,
        attributes: body.attributes ?? {},
        status: body.status,
      })
      .onConflictDoNothing({ target: [contacts.tenantId, contacts.email] })
      .returning();
    if (!row) throw emailTaken(body.email);
    return c.json(toContactDto(row), 201);
  });
}
