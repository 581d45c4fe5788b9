import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { providers } from "../../../db/schema";
import type { HonoEnv } from "../../../env";
import { HeraldError } from "../../../errors";
import { findTenantRow } from "../../../lib/tenant-rows";
import { IdParam, problems } from "../../../lib/schemas";
import { requireScope } from "../../../middleware/auth";
import type { Db } from "../../../services/db";
import { ProviderSchema, toProviderDto } from "./schema";

const route = createRoute({
  method: "get",
  path: "/{id}",
  tags: ["providers"],
  summary: "Get one provider (never its credentials)",
  security: [{ bearerAuth: [] }],
  middleware: [requireScope("providers:read")] as const,
  request: { params: IdParam },
  responses: {
    200: { description: "The provider", content: { "application/json": { schema: ProviderSchema } } },
    ...problems(401, 403, 404),
  },
});

export function findProvider(db: Db, tenantId: string, id: string) {
  return findTenantRow(db, providers, tenantId, id, () => new HeraldError("not_found", "no such provider"));
}

export function registerGet(api: OpenAPIHono<HonoEnv>) {
  api.openapi(route, async (c) => {
    const row = await findProvider(c.var.db, c.var.principal.tenantId, c.req.valid("param").id);
    return c.json(toProviderDto(row), 200);
  });
}
