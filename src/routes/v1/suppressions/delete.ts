import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import type { HonoEnv } from "../../../env";
import { problems } from "../../../lib/schemas";
import { requireScope } from "../../../middleware/auth";
import { unsuppress } from "../../../suppressions/store";
import { noSuchSuppression } from "./get";
import { EmailParam } from "./schema";

const route = createRoute({
  method: "delete",
  path: "/{email}",
  tags: ["suppressions"],
  summary: "Mail an address again. Contacts keep their status: change a bounced or unsubscribed contact separately.",
  security: [{ bearerAuth: [] }],
  middleware: [requireScope("suppressions:write")] as const,
  request: { params: EmailParam },
  responses: {
    204: { description: "No longer suppressed" },
    ...problems(401, 403, 404, 422),
  },
});

export function registerDelete(api: OpenAPIHono<HonoEnv>) {
  api.openapi(route, async (c) => {
    const email = c.req.valid("param").email;
    if (!(await unsuppress(c.var.db, c.var.principal.tenantId, email))) throw noSuchSuppression();
    c.var.logger.info("suppression removed");
    return c.body(null, 204);
  });
}
