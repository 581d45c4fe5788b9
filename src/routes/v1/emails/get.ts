import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { and, asc, eq } from "drizzle-orm";
import { events } from "../../../db/events-table";
import { emails } from "../../../db/schema";
import type { HonoEnv } from "../../../env";
import { HeraldError } from "../../../errors";
import { IdParam, problems } from "../../../lib/schemas";
import { findTenantRow } from "../../../lib/tenant-rows";
import { requireScope } from "../../../middleware/auth";
import { EmailSchema, toEmailDto } from "./schema";

const route = createRoute({
  method: "get",
  path: "/{id}",
  tags: ["emails"],
  summary: "One transactional email: its status and events (Resend-compatible)",
  security: [{ bearerAuth: [] }],
  middleware: [requireScope("emails:read")] as const,
  request: { params: IdParam },
  responses: {
    200: { description: "The email", content: { "application/json": { schema: EmailSchema } } },
    ...problems(401, 403, 404),
  },
});

export function registerGet(api: OpenAPIHono<HonoEnv>) {
  api.openapi(route, async (c) => {
    const { tenantId } = c.var.principal;
    const row = await findTenantRow(
      c.var.db,
      emails,
      tenantId,
      c.req.valid("param").id,
      () => new HeraldError("not_found", "no such email"),
    );
    const history = await c.var.db
      .select({ type: events.type, occurredAt: events.occurredAt, url: events.url })
      .from(events)
      .where(and(eq(events.tenantId, tenantId), eq(events.messageId, row.id)))
      .orderBy(asc(events.occurredAt))
      .limit(100);
    return c.json(
      toEmailDto(
        row,
        history.map((e) => ({ type: e.type, occurred_at: e.occurredAt.toISOString(), url: e.url })),
      ),
      200,
    );
  });
}
