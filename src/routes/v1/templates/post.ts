import { defineRoute, type Handler, type RequestBody, type ResponseBody } from "../../define";
import { createTemplate } from "../../../templates/store";
import { CreateTemplateBody, TemplateSchema, toTemplateDto } from "./schema";

export const route = defineRoute("post", "/", "templates:write", {
  summary: "Create a template: a subject and html, text or both, with {{ variables }}",
  description:
    '{{ path }} inserts a value (HTML-escaped in html), {{{ path }}} inserts it raw, and {{ path | "default" }} falls back when the value is empty. ' +
    "Paths: email, name, attributes.<key>, campaign.<key>, unsubscribe_url, view_in_browser_url. Syntax errors are 422; unknown_variables lists paths nothing can fill.",
  request: { body: CreateTemplateBody },
  responses: [[201, TemplateSchema, "The new template"]],
});

export const handler: Handler<typeof route> = async (c) => {
  const body = c.req.valid("json");
  const row = await createTemplate(c.var.db, c.var.principal.tenantId, body.name, {
    subject: body.subject,
    html: body.html ?? null,
    text: body.text ?? null,
  });
  return c.json(toTemplateDto(row), 201);
};

export type PostTemplateBody = RequestBody<typeof route>;
export type PostTemplateResponse = ResponseBody<typeof route>;
