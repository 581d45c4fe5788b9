import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import { contacts } from "../../../db/schema";
import type { HonoEnv } from "../../../env";
import { newestFirst } from "../../../lib/keyset";
import { pageOf, problems } from "../../../lib/schemas";
import { requireScope } from "../../../middleware/auth";
import { ContactListQuery, ContactSchema, toContactDto } from "../../../contacts/schema";

const route = createRoute({
  method: "get",
  path: "/",
  tags: ["contacts"],
  summary: "List the tenant's contacts, newest first, optionally filtered by status or email",
  security: [{ bearerAuth: [] }],
  middleware: [requireScope("contacts:read")] as const,
  request: { query: ContactListQuery },
  responses: {
    200: { description: "A page of contacts", content: { "application/json": { schema: pageOf(ContactSchema, "ContactPage") } } },
    ...problems(401, 403, 422),
  },
});

export function registerList(api: OpenAPIHono<HonoEnv>) {
  api.openapi(route, async (c) => {
    const { status, email, ...page } = c.req.valid("query");
    const filters = [status ? eq(contacts.status, status) : undefined, email ? eq(contacts.email, email) : undefined];
    return c.json(await newestFirst(c.var.db, contacts, c.var.principal.tenantId, page, toContactDto, ...filters), 200);
  });
}
