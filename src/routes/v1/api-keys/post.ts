import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { grants } from "../../../auth/scopes";
import type { HonoEnv } from "../../../env";
import { HeraldError } from "../../../errors";
import { problems } from "../../../lib/schemas";
import { requireScope } from "../../../middleware/auth";
import { CreateApiKeyBody, CreatedApiKeySchema } from "../../../api-keys/schema";
import { insertApiKey } from "../../../api-keys/store";

const route = createRoute({
  method: "post",
  path: "/",
  tags: ["api-keys"],
  summary: "Create an API key; the key is in this response only",
  security: [{ bearerAuth: [] }],
  middleware: [requireScope("api_keys:write")] as const,
  request: { body: { required: true, content: { "application/json": { schema: CreateApiKeyBody } } } },
  responses: {
    201: { description: "The new key", content: { "application/json": { schema: CreatedApiKeySchema } } },
    ...problems(400, 401, 403, 413, 415, 422),
  },
});

export function registerPost(api: OpenAPIHono<HonoEnv>) {
  api.openapi(route, async (c) => {
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
  });
}
