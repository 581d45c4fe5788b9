import { defineRoute, type Handler, type ResponseBody } from "../../define";
import { PageQuery, pageOf } from "../../../lib/schemas";
import { templateSummaryPage } from "../../../templates/store";
import { TemplateSummarySchema, toTemplateSummaryDto } from "./schema";

export const route = defineRoute("get", "/", "templates:read", {
  summary: "List the tenant's templates, newest first, without their bodies (GET one for html and text)",
  request: { query: PageQuery },
  responses: [[200, pageOf(TemplateSummarySchema, "TemplatePage"), "A page of templates"]],
});

export const handler: Handler<typeof route> = async (c) =>
  c.json(await templateSummaryPage(c.var.db, c.var.principal.tenantId, c.req.valid("query"), toTemplateSummaryDto), 200);

export type ListTemplatesResponse = ResponseBody<typeof route>;
