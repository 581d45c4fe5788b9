import { defineRoute, type Handler, type RequestBody, type ResponseBody } from "../../define";
import { IdParam } from "../../../lib/schemas";
import { templateCacheKey, updateTemplate } from "../../../templates/store";
import { TemplateSchema, toTemplateDto, UpdateTemplateBody } from "./schema";

export const route = defineRoute("patch", "/{id}", "templates:write", {
  summary: "Change a template; every change bumps its version",
  request: { params: IdParam, body: UpdateTemplateBody },
  responses: [[200, TemplateSchema, "The updated template"], 404],
});

export const handler: Handler<typeof route> = async (c) => {
  const { tenantId } = c.var.principal;
  const row = await updateTemplate(c.var.db, tenantId, c.req.valid("param").id, c.req.valid("json"));
  await c.var.cache.delete(templateCacheKey(tenantId, row.id));
  return c.json(toTemplateDto(row), 200);
};

export type PatchTemplateBody = RequestBody<typeof route>;
export type PatchTemplateResponse = ResponseBody<typeof route>;
