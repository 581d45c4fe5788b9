import { defineRoute, type Handler, type RequestBody, type ResponseBody } from "../../define";
import { grants } from "../../../auth/scopes";
import { HeraldError } from "../../../errors";
import { CreateApiKeyBody, CreatedApiKeySchema } from "../../../api-keys/schema";
import { insertApiKey } from "../../../api-keys/store";

export const route = defineRoute("post", "/", "api_keys:write", {
  summary: "Create an API key; the key is in this response only",
  request: { body: CreateApiKeyBody },
  responses: [[201, CreatedApiKeySchema, "The new key"]],
});

export const handler: Handler<typeof route> = async (c) => {
  const body = c.req.valid("json");
  const { principal } = c.var;
  // A credential can hand out only what it holds itself.
  const beyond = body.scopes.filter((s) => !grants(principal.scopes, s));
  if (beyond.length > 0) {
    throw new HeraldError("forbidden", `this credential cannot grant ${beyond.join(", ")}`);
  }
  const created = await insertApiKey(c.var.db, {
    tenantId: principal.tenantId,
    name: body.name,
    scopes: body.scopes,
    expiresAt: body.expires_at ? new Date(body.expires_at) : undefined,
    createdBy: `${principal.kind}:${principal.subject}`,
  });
  c.var.logger.info("api key created", { api_key_id: created.id });
  c.header("cache-control", "no-store");
  return c.json(created, 201);
};

export type PostApiKeyBody = RequestBody<typeof route>;
export type PostApiKeyResponse = ResponseBody<typeof route>;
