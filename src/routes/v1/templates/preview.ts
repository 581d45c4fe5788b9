import { defineRoute, type Handler, type RequestBody, type ResponseBody } from "../../define";
import { IdParam } from "../../../lib/schemas";
import { compileTemplate, type MergeContext } from "../../../templates/engine";
import { findTemplate } from "../../../templates/store";
import { PreviewBody, RenderedSchema } from "./schema";

/** What a preview shows where the request gives no contact data; the links lead nowhere on purpose. */
export const SAMPLE_CONTACT = { email: "jane.doe@example.com", name: "Jane Doe" } as const;
export const SAMPLE_LINKS = {
  unsubscribe_url: "https://example.com/unsubscribe?preview=1",
  view_in_browser_url: "https://example.com/view?preview=1",
} as const;

export const route = defineRoute("post", "/{id}/preview", "templates:read", {
  summary: "Render a template with sample or given contact and campaign data; nothing is sent or saved",
  request: { params: IdParam, body: PreviewBody, bodyOptional: true },
  responses: [[200, RenderedSchema, "The rendered subject and bodies"], 404],
});

export const handler: Handler<typeof route> = async (c) => {
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
};

export type PreviewTemplateBody = RequestBody<typeof route>;
export type PreviewTemplateResponse = ResponseBody<typeof route>;
