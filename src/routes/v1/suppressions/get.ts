import { defineRoute, type Handler, type ResponseBody } from "../../define";
import { findSuppression, noSuchSuppression } from "../../../suppressions/store";
import { EmailParam, SuppressionSchema, toSuppressionDto } from "./schema";

export const route = defineRoute("get", "/{email}", "suppressions:read", {
  summary: "Whether an address is suppressed: its entry, or 404",
  request: { params: EmailParam },
  responses: [[200, SuppressionSchema, "The suppression"], 404],
});

export const handler: Handler<typeof route> = async (c) => {
  const row = await findSuppression(c.var.db, c.var.principal.tenantId, c.req.valid("param").email);
  if (!row) throw noSuchSuppression();
  return c.json(toSuppressionDto(row), 200);
};

export type GetSuppressionResponse = ResponseBody<typeof route>;
