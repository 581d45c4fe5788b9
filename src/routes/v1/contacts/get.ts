import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import type { HonoEnv } from "../../../env";
import { IdParam, problems } from "../../../lib/schemas";
import { requireScope } from "../../../middleware/auth";
import { ContactSchema, toContactDto } from "../../../contacts/schema";
import { findContact } from "../../../contacts/store";

const route = createRoute({
  method: "get",
  path: "/{id}",
  tags: ["contacts"],
  summary: "Get one contact",
  security: [{ bearerAuth: [] }],
  middleware: [requireScope("contacts:read")] as const,
  request: { params: IdParam },
  responses: {
    200: { description: "The contact", content: { "application/json": { schema: ContactSchema } } },
    ...problems(401, 403, 404),
  },
});

export function registerGet(api: OpenAPIHono<HonoEnv>) {
  api.openapi(route, async (c) => {
    const row = await findContact(c.var.db, c.var.principal.tenantId, c.req.valid("param").id);
    return c.json(toContactDto(row), 200);
  });
}
