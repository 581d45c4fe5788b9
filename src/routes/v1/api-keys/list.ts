import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { apiKeys } from "../../../db/schema";
import type { HonoEnv } from "../../../env";
import { newestFirst } from "../../../lib/keyset";
import { PageQuery, pageOf, problems } from "../../../lib/schemas";
import { requireScope } from "../../../middleware/auth";
import { ApiKeySchema, toApiKeyDto } from "../../../api-keys/schema";

const route = createRoute({
  method: "get",
  path: "/",
  tags: ["api-keys"],
  summary: "List the tenant's API keys, newest first (revoked keys included)",
  security: [{ bearerAuth: [] }],
  middleware: [requireScope("api_keys:read")] as const,
  request: { query: PageQuery },
  responses: {
    200: { description: "A page of keys", content: { "application/json": { schema: pageOf(ApiKeySchema, "ApiKeyPage") } } },
    ...problems(401, 403, 422),
  },
});

export function registerList(api: OpenAPIHono<HonoEnv>) {
  api.openapi(route, async (c) =>
    c.json(await newestFirst(c.var.db, apiKeys, c.var.principal.tenantId, c.req.valid("query"), toApiKeyDto), 200),
  );
}
