import { defineRoute, type Handler, type ResponseBody } from "../../define";
import { toPage } from "../../../lib/keyset";
import { pageOf } from "../../../lib/schemas";
import { suppressionRows } from "../../../suppressions/store";
import { decodeSuppressionCursor, encodeSuppressionCursor, SuppressionListQuery, SuppressionSchema, toSuppressionDto } from "./schema";

export const route = defineRoute("get", "/", "suppressions:read", {
  summary: "List the tenant's suppressed addresses, newest first or alphabetically; filter by reason or address prefix",
  request: { query: SuppressionListQuery },
  responses: [[200, pageOf(SuppressionSchema, "SuppressionPage"), "A page of suppressions"]],
});

export const handler: Handler<typeof route> = async (c) => {
  const { cursor, limit, order, reason, email } = c.req.valid("query");
  const after = decodeSuppressionCursor(cursor, order);
  const rows = await suppressionRows(c.var.db, c.var.principal.tenantId, { order, reason, email, after, take: limit + 1 });
  const cursorAfter = (last: (typeof rows)[number]) =>
    encodeSuppressionCursor({ order, email: last.email, ...(order === "created_at" ? { at: last.at } : {}) });
  return c.json(toPage(rows, limit, toSuppressionDto, cursorAfter), 200);
};

export type ListSuppressionsResponse = ResponseBody<typeof route>;
