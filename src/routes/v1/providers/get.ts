import { defineRoute, type Handler, type ResponseBody } from "../../define";
import { IdParam } from "../../../lib/schemas";
import { findProvider } from "../../../providers/rows";
import { ProviderSchema, toProviderDto } from "./schema";

export const route = defineRoute("get", "/{id}", "providers:read", {
  summary: "Get one provider (never its credentials)",
  request: { params: IdParam },
  responses: [[200, ProviderSchema, "The provider"], 404],
});

export const handler: Handler<typeof route> = async (c) => {
  const row = await findProvider(c.var.db, c.var.principal.tenantId, c.req.valid("param").id);
  return c.json(toProviderDto(row), 200);
};

export type GetProviderResponse = ResponseBody<typeof route>;
