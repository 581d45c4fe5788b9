import { defineRoute, type Handler, type ResponseBody } from "../../define";
import { PageQuery, pageOf } from "../../../lib/schemas";
import { ApiKeySchema } from "../../../api-keys/schema";
import { listApiKeys } from "../../../api-keys/store";

export const route = defineRoute("get", "/", "api_keys:read", {
  summary: "List the tenant's API keys, newest first (revoked keys included)",
  request: { query: PageQuery },
  responses: [[200, pageOf(ApiKeySchema, "ApiKeyPage"), "A page of keys"]],
});

export const handler: Handler<typeof route> = async (c) =>
  c.json(await listApiKeys(c.var.db, c.var.principal.tenantId, c.req.valid("query")), 200);

export type ListApiKeysResponse = ResponseBody<typeof route>;
