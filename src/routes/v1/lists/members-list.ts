import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { and, desc, eq, getTableColumns, lt, type SQL } from "drizzle-orm";
import { contacts, listMembers } from "../../../db/schema";
import type { HonoEnv } from "../../../env";
import { cursorId, encodeCursor, IdParam, PageQuery, pageOf, problems } from "../../../lib/schemas";
import { requireScope } from "../../../middleware/auth";
import { ContactSchema, toContactDto } from "../../../contacts/schema";
import { findList } from "../../../lists/store";

const route = createRoute({
  method: "get",
  path: "/{id}/members",
  tags: ["lists"],
  summary: "List the contacts on a list, newest contact first",
  security: [{ bearerAuth: [] }],
  middleware: [requireScope("contacts:read")] as const,
  request: { params: IdParam, query: PageQuery },
  responses: {
    200: { description: "A page of contacts", content: { "application/json": { schema: pageOf(ContactSchema, "ListMemberPage") } } },
    ...problems(401, 403, 404, 422),
  },
});

export function registerMembersList(api: OpenAPIHono<HonoEnv>) {
  api.openapi(route, async (c) => {
    const { tenantId } = c.var.principal;
    const { cursor, limit } = c.req.valid("query");
    const after = cursorId(cursor);
    const list = await findList(c.var.db, tenantId, c.req.valid("param").id);
    const filters: SQL[] = [eq(listMembers.tenantId, tenantId), eq(listMembers.listId, list.id)];
    if (after) filters.push(lt(listMembers.contactId, after));
    // Keyset on the membership's primary key (tenant_id, list_id, contact_id), so deep pages stay cheap.
    const rows = await c.var.db
      .select(getTableColumns(contacts))
      .from(listMembers)
      .innerJoin(contacts, and(eq(contacts.tenantId, listMembers.tenantId), eq(contacts.id, listMembers.contactId)))
      .where(and(...filters))
      .orderBy(desc(listMembers.contactId))
      .limit(limit + 1);
    const page = rows.slice(0, limit);
    const next = rows.length > limit ? encodeCursor(page[page.length - 1]!.id) : null;
    return c.json({ data: page.map(toContactDto), next_cursor: next }, 200);
  });
}
