import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { and, eq } from "drizzle-orm";
import { contacts } from "../../../db/schema";
import type { HonoEnv } from "../../../env";
import { HeraldError } from "../../../errors";
import { isUuid } from "../../../lib/ids";
import { IdParam, problems } from "../../../lib/schemas";
import { requireScope } from "../../../middleware/auth";

const route = createRoute({
  method: "delete",
  path: "/{id}",
  tags: ["contacts"],
  summary: "Delete a contact and its list memberships. Suppressions stay: they are keyed by address.",
  security: [{ bearerAuth: [] }],
  middleware: [requireScope("contacts:write")] as const,
  request: { params: IdParam },
  responses: {
    204: { description: "Deleted" },
    ...problems(401, 403, 404),
  },
});

export function registerDelete(api: OpenAPIHono<HonoEnv>) {
  api.openapi(route, async (c) => {
    const { id } = c.req.valid("param");
    if (!isUuid(id)) throw new HeraldError("not_found", "no such contact");
    const deleted = await c.var.db
      .delete(contacts)
      .where(and(eq(contacts.tenantId, c.var.principal.tenantId), eq(contacts.id, id.toLowerCase())))
      .returning({ id: contacts.id });
    if (deleted.length === 0) throw new HeraldError("not_found", "no such contact");
    c.var.logger.info("contact deleted", { contact_id: deleted[0]!.id });
    return c.body(null, 204);
  });
}
