import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import type { HonoEnv } from "../../../env";
import { IdParam, problems } from "../../../lib/schemas";
import { requireScope } from "../../../middleware/auth";
import { compileTemplate, type MergeContext } from "../../../templates/engine";
import { PreviewBody, RenderedSchema } from "./schema";
import { findTemplate } from "./store";

/** What a preview shows where the request gives no contact data; the links lead nowhere on purpose. */
export const SAMPLE_CONTACT = { email: "jane.doe@example.com", name: "Jane Doe" } as const;
export const SAMPLE_LINKS = {
  unsubscribe_url: "https://example.com/unsubscribe?preview=1",
  view_in_browser_url: "https://example.com/view?preview=1",
} as const;

const route = createRoute({
  method: "post",
  path: "/{id}/preview",
  tags: ["templates"],
  summary: "Render a template with sample or given contact and campaign data; nothing is sent or saved",
  security: [{ bearerAuth: [] }],
  middleware: [requireScope("templates:read")] as const,
  request: {
    params: IdParam,
    body: { required: false, content: { "application/json": { schema: PreviewBody } } },
  },
  responses: {
    200: { description: "The rendered subject and bodies", content: { "application/json": { schema: RenderedSchema } } },
    ...problems(400, 401, 403, 404, 413, 415, 422),
  },
});

export function registerPreview(api: OpenAPIHono<HonoEnv>) {
  api.openapi(route, async (c) => {
    const row = await findTemplate(c.var.db, c.var.principal.tenantId, c.req.valid("param").id);
    const body = c.req.valid("json");
    const contact = body.contact ?? {};
    const ctx: MergeContext = {
      email: contact.email ?? SAMPLE_CONTACT.email,
      name: contact.name === undefined ? SAMPLE_CONTACT.name : contact.name,
      attributes: contact.attributes ?? {},
      campaign: body.campaign ?? {},
      extra: { ...SAMPLE_LINKS },
    };
    const rendered = compileTemplate({ subject: row.subject, html: row.html, text: row.text }).render(ctx);
    return c.json(rendered, 200);
  });
}
