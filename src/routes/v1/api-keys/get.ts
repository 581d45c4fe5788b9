import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { and, eq } from "drizzle-orm";
import { apiKeys } from "../../../db/schema";
import type { HonoEnv } from "../../../env";
import { HeraldError } from "../../../errors";
import { isUuid } from "../../../lib/ids";
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

/** Another tenant's key, or an id that is not even a UUID, is simply not found. */
export async function findApiKey(db: Db, tenantId: string, id: string) {
  if (!isUuid(id)) throw new HeraldError("not_found", "no such API key");
  const [row] = await db
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.tenantId, tenantId), eq(apiKeys.id, id.toLowerCase())))
    .limit(1);
  if (!row) throw new HeraldError("not_found", "no such API key");
  return row;
}

export function registerGet(api: OpenAPIHono<HonoEnv>) {
  api.openapi(route, async (c) => {
    const row = await findApiKey(c.var.db, c.var.principal.tenantId, c.req.valid("param").id);
    return c.json(toApiKeyDto(row), 200);
  });
}
