import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { and, eq, sql } from "drizzle-orm";
import { contacts } from "../../../db/schema";
import type { HonoEnv } from "../../../env";
import { HeraldError } from "../../../errors";
import { IdParam, problems } from "../../../lib/schemas";
import { requireScope } from "../../../middleware/auth";
import { pgErrorCode, UNIQUE_VIOLATION } from "../../../lib/pg-error";
import { ContactSchema, toContactDto, UpdateContactBody } from "../../../contacts/schema";
import { emailTaken, findContact } from "../../../contacts/store";

const route = createRoute({
  method: "patch",
  path: "/{id}",
  tags: ["contacts"],
  summary: "Change a contact's email, name, attributes (replaced whole) or status",
  security: [{ bearerAuth: [] }],
  middleware: [requireScope("contacts:write")] as const,
  request: {
    params: IdParam,
    body: { required: true, content: { "application/json": { schema: UpdateContactBody } } },
  },
  responses: {
    200: { description: "The updated contact", content: { "application/json": { schema: ContactSchema } } },
    ...problems(400, 401, 403, 404, 409, 413, 415, 422),
  },
});

export function registerPatch(api: OpenAPIHono<HonoEnv>) {
  api.openapi(route, async (c) => {
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
  });
}
