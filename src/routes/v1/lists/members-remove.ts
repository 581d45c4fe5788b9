import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { and, eq } from "drizzle-orm";
import { listMembers } from "../../../db/schema";
import type { HonoEnv } from "../../../env";
import { HeraldError } from "../../../errors";
import { problems, uuidOr404 } from "../../../lib/schemas";
import { requireScope } from "../../../middleware/auth";
import { ListMemberParams } from "./schema";
import { findList } from "../../../lists/store";

const route = createRoute({
  method: "delete",
  path: "/{id}/members/{contact_id}",
  tags: ["lists"],
  summary: "Take a contact off a list; the contact itself stays",
  security: [{ bearerAuth: [] }],
  middleware: [requireScope("contacts:write")] as const,
  request: { params: ListMemberParams },
  responses: {
    204: { description: "Removed" },
    ...problems(401, 403, 404),
  },
});

export function registerMembersRemove(api: OpenAPIHono<HonoEnv>) {
  api.openapi(route, async (c) => {
    const { tenantId } = c.var.principal;
    const params = c.req.valid("param");
    const list = await findList(c.var.db, tenantId, params.id);
    const notMember = new HeraldError("not_found", "that contact is not on this list");
    const contactId = uuidOr404(params.contact_id, () => notMember);
    const removed = await c.var.db
      .delete(listMembers)
      .where(and(eq(listMembers.tenantId, tenantId), eq(listMembers.listId, list.id), eq(listMembers.contactId, contactId)))
      .returning({ contactId: listMembers.contactId });
    if (removed.length === 0) throw notMember;
    return c.body(null, 204);
  });
}
