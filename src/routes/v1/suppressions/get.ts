import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import type { HonoEnv } from "../../../env";
import { HeraldError } from "../../../errors";
import { problems } from "../../../lib/schemas";
import { requireScope } from "../../../middleware/auth";
import { findSuppression } from "../../../suppressions/store";
import { EmailParam, SuppressionSchema, toSuppressionDto } from "./schema";

const route = createRoute({
  method: "get",
  path: "/{email}",
  tags: ["suppressions"],
  summary: "Whether an address is suppressed: its entry, or 404",
  security: [{ bearerAuth: [] }],
  middleware: [requireScope("suppressions:read")] as const,
  request: { params: EmailParam },
  responses: {
    200: { description: "The suppression", content: { "application/json": { schema: SuppressionSchema } } },
    ...problems(401, 403, 404, 422),
  },
});

export function noSuchSuppression(): HeraldError {
  return new HeraldError("not_found", "that address is not suppressed");
}

export function registerGet(api: OpenAPIHono<HonoEnv>) {
  api.openapi(route, async (c) => {
    const row = await findSuppression(c.var.db, c.var.principal.tenantId, c.req.valid("param").email);
    if (!row) throw noSuchSuppression();
    return c.json(toSuppressionDto(row), 200);
  });
}
