import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { lists } from "../../../db/schema";
import type { HonoEnv } from "../../../env";
import { uuidv7 } from "../../../lib/ids";
import { problems } from "../../../lib/schemas";
import { requireScope } from "../../../middleware/auth";
import { CreateListBody, ListSchema, toListDto } from "./schema";
import { nameTaken } from "../../../lists/store";

const route = createRoute({
  method: "post",
  path: "/",
  tags: ["lists"],
  summary: "Create a list; names are unique within the tenant",
  security: [{ bearerAuth: [] }],
  middleware: [requireScope("contacts:write")] as const,
  request: { body: { required: true, content: { "application/json": { schema: CreateListBody } } } },
  responses: {
    201: { description: "The new list", content: { "application/json": { schema: ListSchema } } },
    ...problems(400, 401, 403, 409, 413, 415, 422),
  },
});

export function registerPost(api: OpenAPIHono<HonoEnv>) {
  api.openapi(route, async (c) => {
    const body = c.req.valid("json");
    const [row] = await c.var.db
      .insert(lists)
      .values({ id: uuidv7(), tenantId: c.var.principal.tenantId, name: body.name, description: body.description ?? null })
      .onConflictDoNothing({ target: [lists.tenantId, lists.name] })
      .returning();
    if (!row) throw nameTaken(body.name);
    return c.json(toListDto(row, 0), 201);
  });
}
