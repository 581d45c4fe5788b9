import { defineRoute, type Handler, type ResponseBody } from "../../define";
import { IdParam } from "../../../lib/schemas";
import { ApiKeySchema, toApiKeyDto } from "../../../api-keys/schema";
import { findApiKey } from "../../../api-keys/store";

export const route = defineRoute("get", "/{id}", "api_keys:read", {
  summary: "Get one API key",
  request: { params: IdParam },
  responses: [[200, ApiKeySchema, "The key (never the key itself)"], 404],
});

export const handler: Handler<typeof route> = async (c) => {
  const row = await findApiKey(c.var.db, c.var.principal.tenantId, c.req.valid("param").id);
  return c.json(toApiKeyDto(row), 200);
};

export type GetApiKeyResponse = ResponseBody<typeof route>;
