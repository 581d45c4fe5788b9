import { defineRoute, type Handler, type ResponseBody } from "../../define";
import { PageQuery, pageOf } from "../../../lib/schemas";
import { providerPage } from "../../../providers/rows";
import { ProviderSchema, toProviderDto } from "./schema";

export const route = defineRoute("get", "/", "providers:read", {
  summary: "List the tenant's providers, newest first",
  request: { query: PageQuery },
  responses: [[200, pageOf(ProviderSchema, "ProviderPage"), "A page of providers"]],
});

export const handler: Handler<typeof route> = async (c) =>
  c.json(await providerPage(c.var.db, c.var.principal.tenantId, c.req.valid("query"), toProviderDto), 200);

export type ListProvidersResponse = ResponseBody<typeof route>;
