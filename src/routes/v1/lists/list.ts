import { defineRoute, type Handler, type ResponseBody } from "../../define";
import { PageQuery, pageOf } from "../../../lib/schemas";
import { listPage } from "../../../lists/store";
import { ListSummarySchema, toListSummaryDto } from "./schema";

export const route = defineRoute("get", "/", "contacts:read", {
  summary: "List the tenant's lists, newest first (GET /v1/lists/{id} has the member count)",
  request: { query: PageQuery },
  responses: [[200, pageOf(ListSummarySchema, "ListPage"), "A page of lists"]],
});

export const handler: Handler<typeof route> = async (c) =>
  c.json(await listPage(c.var.db, c.var.principal.tenantId, c.req.valid("query"), toListSummaryDto), 200);

export type ListListsResponse = ResponseBody<typeof route>;
