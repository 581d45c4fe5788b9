import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { apiKeys } from "../../../db/schema";
import type { HonoEnv } from "../../../env";
import { HeraldError } from "../../../errors";
import { findTenantRow } from "../../../lib/tenant-rows";
import { IdParam, problems } from "../../../lib/schemas";
import { requireScope } from "../../../middleware/auth";
import type { Db } from "../../../services/db";
import { ApiKeySchema, toApiKeyDto } from "../../../api-keys/schema";

const route = createRoute({
  method: "get",
  path: "/{id}",
  tags: ["api-keys"],
  summary: "Get one API key",
  security: [{ bearerAuth: [] }],
  middleware: [requireScope("api_keys:read")] as const,
  request: { params: IdParam },
  responses: {
    200: { description: "The key (never the key itself)", content: { "application/json": { schema: ApiKeySchema } } },
    ...problems(401, 403, 404),
  },
});

export function findApiKey(db: Db, tenantId: string, id: string) {
  return findTenantRow(db, apiKeys, tenantId, id, () => new HeraldError("not_found", "no such API key"));
}

export function registerGet(api: OpenAPIHono<HonoEnv>) {
  api.openapi(route, async (c) => {
    const row = await findApiKey(c.var.db, c.var.principal.tenantId, c.req.valid("param").id);
    return c.json(toApiKeyDto(row), 200);
  });
}
