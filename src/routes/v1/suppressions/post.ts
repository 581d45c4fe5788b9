import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import type { HonoEnv } from "../../../env";
import { problems } from "../../../lib/schemas";
import { requireScope } from "../../../middleware/auth";
import { suppressOne } from "../../../suppressions/store";
import { CreateSuppressionBody, SuppressionSchema, toSuppressionDto } from "./schema";

const route = createRoute({
  method: "post",
  path: "/",
  tags: ["suppressions"],
  summary: "Suppress an address. Idempotent: an address already suppressed answers 200 with its entry, unchanged.",
  security: [{ bearerAuth: [] }],
  middleware: [requireScope("suppressions:write")] as const,
  request: { body: { required: true, content: { "application/json": { schema: CreateSuppressionBody } } } },
  responses: {
    200: { description: "The address was already suppressed; its entry", content: { "application/json": { schema: SuppressionSchema } } },
    201: { description: "The new suppression", content: { "application/json": { schema: SuppressionSchema } } },
    ...problems(400, 401, 403, 413, 415, 422),
  },
});

export function registerPost(api: OpenAPIHono<HonoEnv>) {
  api.openapi(route, async (c) => {
    const body = c.req.valid("json");
    const { row, created } = await suppressOne(c.var.db, c.var.principal.tenantId, {
      email: body.email,
      reason: body.reason,
      note: body.note || null,
    });
    if (created) c.var.logger.info("suppression added", { reason: row.reason });
    return created ? c.json(toSuppressionDto(row), 201) : c.json(toSuppressionDto(row), 200);
  });
}
