import { defineRoute, type Handler, type ResponseBody } from "../../define";
import { apiKeyCacheKey } from "../../../auth/authenticate";
import { IdParam } from "../../../lib/schemas";
import { ApiKeySchema, toApiKeyDto } from "../../../api-keys/schema";
import { findApiKey, revokeApiKey } from "../../../api-keys/store";

export const route = defineRoute("delete", "/{id}", "api_keys:write", {
  summary: "Revoke an API key. It stops working at once; revoking twice is harmless.",
  request: { params: IdParam },
  responses: [[200, ApiKeySchema, "The revoked key"], 404],
});

export const handler: Handler<typeof route> = async (c) => {
  const { tenantId } = c.var.principal;
  const existing = await findApiKey(c.var.db, tenantId, c.req.valid("param").id);
  if (existing.revokedAt) return c.json(toApiKeyDto(existing), 200);
  const row = await revokeApiKey(c.var.db, tenantId, existing);
  // The cached lookup goes too, so the key stops working now (Upstash) or within KV's bound.
  await c.var.cache.delete(apiKeyCacheKey(existing.keyHash));
  c.var.logger.info("api key revoked", { api_key_id: existing.id });
  return c.json(toApiKeyDto(row), 200);
};

export type DeleteApiKeyResponse = ResponseBody<typeof route>;
