import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { and, asc, desc, eq, getTableColumns, gt, sql, type SQL } from "drizzle-orm";
import { suppressions } from "../../../db/schema";
import type { HonoEnv } from "../../../env";
import { toPage } from "../../../lib/keyset";
import { pageOf, problems } from "../../../lib/schemas";
import { requireScope } from "../../../middleware/auth";
import { decodeSuppressionCursor, encodeSuppressionCursor, SuppressionListQuery, SuppressionSchema, toSuppressionDto } from "./schema";

const route = createRoute({
  method: "get",
  path: "/",
  tags: ["suppressions"],
  summary: "List the tenant's suppressed addresses, newest first or alphabetically; filter by reason or address prefix",
  security: [{ bearerAuth: [] }],
  middleware: [requireScope("suppressions:read")] as const,
  request: { query: SuppressionListQuery },
  responses: {
    200: {
      description: "A page of suppressions",
      content: { "application/json": { schema: pageOf(SuppressionSchema, "SuppressionPage") } },
    },
    ...problems(401, 403, 422),
  },
});

/** created_at to the microsecond, so the cursor names the exact row it stopped at. */
const createdAtText = sql<string>`to_char(${suppressions.createdAt} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

export function registerList(api: OpenAPIHono<HonoEnv>) {
  api.openapi(route, async (c) => {
    const { cursor, limit, order, reason, email } = c.req.valid("query");
    const after = decodeSuppressionCursor(cursor, order);
    const filters: SQL[] = [eq(suppressions.tenantId, c.var.principal.tenantId)];
    if (reason) filters.push(eq(suppressions.reason, reason));
    if (email) filters.push(sql`starts_with(${suppressions.email}, ${email})`);
    if (after) {
      filters.push(
        order === "email"
          ? gt(suppressions.email, after.email)
          : sql`(${suppressions.createdAt}, ${suppressions.email}) < (${after.at}::timestamptz, ${after.email})`,
      );
    }
    const rows = await c.var.db
      .select({ ...getTableColumns(suppressions), at: createdAtText })
      .from(suppressions)
      .where(and(...filters))
      .orderBy(...(order === "email" ? [asc(suppressions.email)] : [desc(suppressions.createdAt), desc(suppressions.email)]))
      .limit(limit + 1);
    const cursorAfter = (last: (typeof rows)[number]) =>
      encodeSuppressionCursor({ order, email: last.email, ...(order === "created_at" ? { at: last.at } : {}) });
    return c.json(toPage(rows, limit, toSuppressionDto, cursorAfter), 200);
  });
}
