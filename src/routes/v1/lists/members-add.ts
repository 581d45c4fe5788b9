import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { sql } from "drizzle-orm";
import type { HonoEnv } from "../../../env";
import { isUuid } from "../../../lib/ids";
import { IdParam, problems } from "../../../lib/schemas";
import { requireScope } from "../../../middleware/auth";
import { FOREIGN_KEY_VIOLATION, pgErrorCode } from "../../../lib/pg-error";
import { AddMembersBody, AddMembersResultSchema } from "./schema";
import { findList, noSuchList } from "../../../lists/store";

const route = createRoute({
  method: "post",
  path: "/{id}/members",
  tags: ["lists"],
  summary: "Add contacts to a list; ids that are not the tenant's contacts are reported, not added",
  security: [{ bearerAuth: [] }],
  middleware: [requireScope("contacts:write")] as const,
  request: {
    params: IdParam,
    body: { required: true, content: { "application/json": { schema: AddMembersBody } } },
  },
  responses: {
    200: {
      description: "How many joined, and which ids were refused",
      content: { "application/json": { schema: AddMembersResultSchema } },
    },
    ...problems(400, 401, 403, 404, 413, 415, 422),
  },
});

export function registerMembersAdd(api: OpenAPIHono<HonoEnv>) {
  api.openapi(route, async (c) => {
    const { tenantId } = c.var.principal;
    const list = await findList(c.var.db, tenantId, c.req.valid("param").id);
    const requested = c.req.valid("json").contact_ids;
    const ids = [...new Set(requested.filter(isUuid).map((id) => id.toLowerCase()))];
    let found = new Set<string>();
    let added = 0;
    if (ids.length > 0) {
      // The tenant filter on contacts is what keeps another tenant's contact ids out of the list.
      const query = sql`
        WITH found AS (
          SELECT id FROM contacts WHERE tenant_id = ${tenantId}::uuid AND id = ANY(${sql.param(ids)}::uuid[])
        ), added AS (
          INSERT INTO list_members (tenant_id, list_id, contact_id)
          SELECT ${tenantId}::uuid, ${list.id}::uuid, id FROM found
          ON CONFLICT DO NOTHING
          RETURNING contact_id
        )
        SELECT (SELECT coalesce(array_agg(id::text), '{}') FROM found) AS found, (SELECT count(*) FROM added)::int AS added`;
      try {
        const result = await c.var.db.execute<{ found: string[]; added: number }>(query);
        found = new Set(result.rows[0]!.found);
        added = Number(result.rows[0]!.added);
      } catch (err) {
        if (pgErrorCode(err) === FOREIGN_KEY_VIOLATION) throw noSuchList();
        throw err;
      }
    }
    const errors = requested.flatMap((id, i) =>
      isUuid(id) && found.has(id.toLowerCase()) ? [] : [{ field: `body.contact_ids.${i}`, contact_id: id, message: "no such contact" }],
    );
    return c.json({ added, errors }, 200);
  });
}
