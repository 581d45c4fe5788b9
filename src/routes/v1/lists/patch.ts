import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { and, eq } from "drizzle-orm";
import { lists } from "../../../db/schema";
import type { HonoEnv } from "../../../env";
import { IdParam, problems } from "../../../lib/schemas";
import { requireScope } from "../../../middleware/auth";
import { pgErrorCode, UNIQUE_VIOLATION } from "../../../lib/pg-error";
import { ListSchema, toListDto, UpdateListBody } from "./schema";
import { findList, memberCount, nameTaken, noSuchList } from "../../../lists/store";

const route = createRoute({
  method: "patch",
  path: "/{id}",
  tags: ["lists"],
  summary: "Rename a list or change its description",
  security: [{ bearerAuth: [] }],
  middleware: [requireScope("contacts:write")] as const,
  request: {
    params: IdParam,
    body: { required: true, content: { "application/json": { schema: UpdateListBody } } },
  },
  responses: {
    200: { description: "The updated list", content: { "application/json": { schema: ListSchema } } },
    ...problems(400, 401, 403, 404, 409, 413, 415, 422),
  },
});

export function registerPatch(api: OpenAPIHono<HonoEnv>) {
  api.openapi(route, async (c) => {
    const { tenantId } = c.var.principal;
    const existing = await findList(c.var.db, tenantId, c.req.valid("param").id);
    const body = c.req.valid("json");
    let row;
    try {
      [row] = await c.var.db
        .update(lists)
        .set({
          ...(body.name !== undefined && { name: body.name }),
          ...(body.description !== undefined && { description: body.description }),
        })
        .where(and(eq(lists.tenantId, tenantId), eq(lists.id, existing.id)))
        .returning();
    } catch (err) {
      if (pgErrorCode(err) === UNIQUE_VIOLATION && body.name) throw nameTaken(body.name);
      throw err;
    }
    if (!row) throw noSuchList();
    return c.json(toListDto(row, await memberCount(c.var.db, tenantId, row.id)), 200);
  });
}
