import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { and, desc, eq, getTableColumns, lt } from "drizzle-orm";
import { contacts, listMembers } from "../../../db/schema";
import type { HonoEnv } from "../../../env";
import { idPage } from "../../../lib/keyset";
import { IdParam, PageQuery, pageOf, problems } from "../../../lib/schemas";
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
    const page = await idPage(
      c.req.valid("query"),
      async (after, take) => {
        const list = await findList(c.var.db, tenantId, c.req.valid("param").id);
        // Keyset on the membership's primary key (tenant_id, list_id, contact_id), so deep pages stay cheap.
        return c.var.db
          .select(getTableColumns(contacts))
          .from(listMembers)
          .innerJoin(contacts, and(eq(contacts.tenantId, listMembers.tenantId), eq(contacts.id, listMembers.contactId)))
          .where(
            and(eq(listMembers.tenantId, tenantId), eq(listMembers.listId, list.id), after ? lt(listMembers.contactId, after) : undefined),
          )
          .orderBy(desc(listMembers.contactId))
          .limit(take);
      },
      toContactDto,
    );
    return c.json(page, 200);
  });
}
