import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { and, eq, sql } from "drizzle-orm";
import { emails } from "../../../db/schema";
import type { HonoEnv } from "../../../env";
import { HeraldError } from "../../../errors";
import { IdParam, problems, uuidOr404 } from "../../../lib/schemas";
import { monthOfUuidv7 } from "../../../lib/ids";
import { requireScope } from "../../../middleware/auth";

const route = createRoute({
  method: "post",
  path: "/{id}/cancel",
  tags: ["emails"],
  summary: "Cancel a scheduled email (Resend-compatible)",
  security: [{ bearerAuth: [] }],
  middleware: [requireScope("emails:send")] as const,
  request: { params: IdParam },
  responses: {
    200: {
      description: "Cancelled",
      content: { "application/json": { schema: z.object({ object: z.literal("email"), id: z.string().uuid() }) } },
    },
    ...problems(401, 403, 404, 409),
  },
});

export function registerCancel(api: OpenAPIHono<HonoEnv>) {
  api.openapi(route, async (c) => {
    const { tenantId } = c.var.principal;
    const id = uuidOr404(c.req.valid("param").id, () => new HeraldError("not_found", "no such email"));
    const cancelled = await c.var.db.transaction(async (tx) => {
      const [row] = await tx
        .update(emails)
        .set({ status: "canceled", lastEvent: "canceled", updatedAt: sql`now()` })
        .where(and(eq(emails.tenantId, tenantId), eq(emails.id, id), eq(emails.status, "scheduled")))
        .returning({ id: emails.id });
      if (row) {
        await tx.execute(sql`
          UPDATE messages SET status = 'skipped', error = 'cancelled', updated_at = now()
          WHERE month = ${monthOfUuidv7(id)}::date AND id = ${id} AND status = 'queued'`);
      }
      return !!row;
    });
    if (!cancelled) {
      const [exists] = await c.var.db
        .select({ status: emails.status })
        .from(emails)
        .where(and(eq(emails.tenantId, tenantId), eq(emails.id, id)));
      if (!exists) throw new HeraldError("not_found", "no such email");
      throw new HeraldError("conflict", `only a scheduled email can be cancelled; this one is ${exists.status}`);
    }
    return c.json({ object: "email" as const, id }, 200);
  });
}
