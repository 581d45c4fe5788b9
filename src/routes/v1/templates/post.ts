import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { templates } from "../../../db/schema";
import type { HonoEnv } from "../../../env";
import { uuidv7 } from "../../../lib/ids";
import { problems } from "../../../lib/schemas";
import { requireScope } from "../../../middleware/auth";
import { CreateTemplateBody, TemplateSchema, toTemplateDto } from "./schema";
import { variablesOf } from "./store";

const route = createRoute({
  method: "post",
  path: "/",
  tags: ["templates"],
  summary: "Create a template: a subject and html, text or both, with {{ variables }}",
  description:
    '{{ path }} inserts a value (HTML-escaped in html), {{{ path }}} inserts it raw, and {{ path | "default" }} falls back when the value is empty. ' +
    "Paths: email, name, attributes.<key>, campaign.<key>, unsubscribe_url, view_in_browser_url. Syntax errors are 422; unknown_variables lists paths nothing can fill.",
  security: [{ bearerAuth: [] }],
  middleware: [requireScope("templates:write")] as const,
  request: { body: { required: true, content: { "application/json": { schema: CreateTemplateBody } } } },
  responses: {
    201: { description: "The new template", content: { "application/json": { schema: TemplateSchema } } },
    ...problems(400, 401, 403, 413, 415, 422),
  },
});

export function registerPost(api: OpenAPIHono<HonoEnv>) {
  api.openapi(route, async (c) => {
    const body = c.req.valid("json");
    const source = { subject: body.subject, html: body.html ?? null, text: body.text ?? null };
    const variables = variablesOf(source);
    const [row] = await c.var.db
      .insert(templates)
      .values({ id: uuidv7(), tenantId: c.var.principal.tenantId, name: body.name, ...source, variables })
      .returning();
    return c.json(toTemplateDto(row!), 201);
  });
}
