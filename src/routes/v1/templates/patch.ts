import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { and, eq, sql } from "drizzle-orm";
import { templates } from "../../../db/schema";
import type { HonoEnv } from "../../../env";
import { HeraldError } from "../../../errors";
import { IdParam, problems } from "../../../lib/schemas";
import { requireScope } from "../../../middleware/auth";
import { TemplateSchema, toTemplateDto, UpdateTemplateBody } from "./schema";
import { findTemplate, templateCacheKey, variablesOf } from "./store";

const route = createRoute({
  method: "patch",
  path: "/{id}",
  tags: ["templates"],
  summary: "Change a template; every change bumps its version",
  security: [{ bearerAuth: [] }],
  middleware: [requireScope("templates:write")] as const,
  request: {
    params: IdParam,
    body: { required: true, content: { "application/json": { schema: UpdateTemplateBody } } },
  },
  responses: {
    200: { description: "The updated template", content: { "application/json": { schema: TemplateSchema } } },
    ...problems(400, 401, 403, 404, 413, 415, 422),
  },
});

export function registerPatch(api: OpenAPIHono<HonoEnv>) {
  api.openapi(route, async (c) => {
    const { tenantId } = c.var.principal;
    const { id } = c.req.valid("param");
    const body = c.req.valid("json");
    // The row is locked while the merged template is checked, so a concurrent change to another
    // part cannot leave `variables` describing a template that was never saved.
    const row = await c.var.db.transaction(async (tx) => {
      const existing = await findTemplate(tx, tenantId, id, true);
      const source = {
        subject: body.subject ?? existing.subject,
        html: body.html === undefined ? existing.html : body.html,
        text: body.text === undefined ? existing.text : body.text,
      };
      if (source.html === null && source.text === null) {
        const message = "a template needs html, text or both";
        throw new HeraldError("validation_failed", "invalid body.html, body.text", {
          errors: [
            { field: "body.html", message },
            { field: "body.text", message },
          ],
        });
      }
      const variables = variablesOf(source);
      const [updated] = await tx
        .update(templates)
        .set({
          ...(body.name !== undefined && { name: body.name }),
          ...source,
          variables,
          version: sql`${templates.version} + 1`,
          updatedAt: sql`now()`,
        })
        .where(and(eq(templates.tenantId, tenantId), eq(templates.id, existing.id)))
        .returning();
      return updated!;
    });
    await c.var.cache.delete(templateCacheKey(tenantId, row.id));
    return c.json(toTemplateDto(row), 200);
  });
}
