import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { and, eq, isNull } from "drizzle-orm";
import { apiKeyCacheKey } from "../../../auth/authenticate";
import { apiKeys } from "../../../db/schema";
import type { HonoEnv } from "../../../env";
import { IdParam, problems } from "../../../lib/schemas";
import { requireScope } from "../../../middleware/auth";
import { findApiKey } from "./get";
import { ApiKeySchema, toApiKeyDto } from "../../../api-keys/schema";

const route = createRoute({
  method: "delete",
  path: "/{id}",
  tags: ["api-keys"],
  summary: "Revoke an API key. It stops working at once; revoking twice is harmless.",
  security: [{ bearerAuth: [] }],
  middleware: [requireScope("api_keys:write")] as const,
  request: { params: IdParam },
  responses: {
    200: { description: "The revoked key", content: { "application/json": { schema: ApiKeySchema } } },
    ...problems(401, 403, 404),
  },
});

export function registerDelete(api: OpenAPIHono<HonoEnv>) {
  api.openapi(route, async (c) => {
    const { tenantId } = c.var.principal;
    const existing = await findApiKey(c.var.db, tenantId, c.req.valid("param").id);
    if (existing.revokedAt) return c.json(toApiKeyDto(existing), 200);
    const [row] = await c.var.db
      .update(apiKeys)
      .set({ revokedAt: new Date() })
      .where(and(eq(apiKeys.tenantId, tenantId), eq(apiKeys.id, existing.id), isNull(apiKeys.revokedAt)))
      .returning();
    // The cached lookup goes too, so the key stops working now (Upstash) or within KV's bound.
    await c.var.cache.delete(apiKeyCacheKey(existing.keyHash));
    c.var.logger.info("api key revoked", { api_key_id: existing.id });
    return c.json(toApiKeyDto(row ?? existing), 200);
  });
}
