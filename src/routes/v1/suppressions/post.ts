import { defineRoute, type Handler, type RequestBody, type ResponseBody } from "../../define";
import { suppressOne } from "../../../suppressions/store";
import { CreateSuppressionBody, SuppressionSchema, toSuppressionDto } from "./schema";

const base = defineRoute("post", "/", "suppressions:write", {
  summary: "Suppress an address. Idempotent: an address already suppressed answers 200 with its entry, unchanged.",
  request: { body: CreateSuppressionBody },
  responses: [[201, SuppressionSchema, "The new suppression"]],
});

// A second success answer, which a RouteSpec cannot declare: the entry that was already there.
export const route = {
  ...base,
  responses: {
    ...base.responses,
    200: { description: "The address was already suppressed; its entry", content: { "application/json": { schema: SuppressionSchema } } },
  },
};

export const handler: Handler<typeof route> = async (c) => {
  const body = c.req.valid("json");
  const { row, created } = await suppressOne(c.var.db, c.var.principal.tenantId, {
    email: body.email,
    reason: body.reason,
    note: body.note || null,
  });
  if (created) c.var.logger.info("suppression added", { reason: row.reason });
  return created ? c.json(toSuppressionDto(row), 201) : c.json(toSuppressionDto(row), 200);
};

export type PostSuppressionBody = RequestBody<typeof route>;
export type PostSuppressionResponse = ResponseBody<typeof route>;
