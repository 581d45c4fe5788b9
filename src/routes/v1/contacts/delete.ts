import type { OpenAPIHono } from "@hono/zod-openapi";
import { contacts } from "../../../db/schema";
import type { HonoEnv } from "../../../env";
import { noSuchContact } from "../../../contacts/store";
import { deleteByIdRoute } from "../../../lib/schemas";
import { deleteTenantRow } from "../../../lib/tenant-rows";
import { requireScope } from "../../../middleware/auth";

const route = deleteByIdRoute(
  "contacts",
  "Delete a contact and its list memberships. Suppressions stay: they are keyed by address.",
  requireScope("contacts:write"),
);

export function registerDelete(api: OpenAPIHono<HonoEnv>) {
  api.openapi(route, async (c) => {
    const id = await deleteTenantRow(c.var.db, contacts, c.var.principal.tenantId, c.req.valid("param").id, noSuchContact);
    c.var.logger.info("contact deleted", { contact_id: id });
    return c.body(null, 204);
  });
}
