import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import type { HonoEnv } from "../../../env";
import { IdParam, problems } from "../../../lib/schemas";
import { requireScope } from "../../../middleware/auth";
import { TemplateSchema, toTemplateDto } from "./schema";
import { findTemplate } from "./store";

const route = createRoute({
  method: "get",
  path: "/{id}",
  tags: ["templates"],
  summary: "Get one template",
  security: [{ bearerAuth: [] }],
  middleware: [requireScope("templates:read")] as const,
  request: { params: IdParam },
  responses: {
    200: { description: "The template", content: { "application/json": { schema: TemplateSchema } } },
    ...problems(401, 403, 404),
  },
});

export function registerGet(api: OpenAPIHono<HonoEnv>) {
  api.openapi(route, async (c) => {
    const row = await findTemplate(c.var.db, c.var.principal.tenantId, c.req.valid("param").id);
    return c.json(toTemplateDto(row), 200);
  });
}
