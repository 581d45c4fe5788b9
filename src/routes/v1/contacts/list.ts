import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { and, desc, eq, lt, type SQL } from "drizzle-orm";
import { contacts } from "../../../db/schema";
import type { HonoEnv } from "../../../env";
import { cursorId, encodeCursor, pageOf, problems } from "../../../lib/schemas";
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
    const { cursor, limit, status, email } = c.req.valid("query");
    const after = cursorId(cursor);
    const filters: SQL[] = [eq(contacts.tenantId, c.var.principal.tenantId)];
    if (after) filters.push(lt(contacts.id, after));
    if (status) filters.push(eq(contacts.status, status));
    if (email) filters.push(eq(contacts.email, email));
    const rows = await c.var.db
      .select()
      .from(contacts)
      .where(and(...filters))
      .orderBy(desc(contacts.id))
      .limit(limit + 1);
    const page = rows.slice(0, limit);
    const next = rows.length > limit ? encodeCursor(page[page.length - 1]!.id) : null;
    return c.json({ data: page.map(toContactDto), next_cursor: next }, 200);
  });
}
