import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { providers } from "../../../db/schema";
import type { HonoEnv } from "../../../env";
import { newestFirst } from "../../../lib/keyset";
import { PageQuery, pageOf, problems } from "../../../lib/schemas";
import { requireScope } from "../../../middleware/auth";
import { ProviderSchema, toProviderDto } from "./schema";

const route = createRoute({
  method: "get",
  path: "/",
  tags: ["providers"],
  summary: "List the tenant's providers, newest first",
  security: [{ bearerAuth: [] }],
  middleware: [requireScope("providers:read")] as const,
  request: { query: PageQuery },
  responses: {
    200: { description: "A page of providers", content: { "application/json": { schema: pageOf(ProviderSchema, "ProviderPage") } } },
    ...problems(401, 403, 422),
  },
});

export function registerList(api: OpenAPIHono<HonoEnv>) {
  api.openapi(route, async (c) =>
    c.json(await newestFirst(c.var.db, providers, c.var.principal.tenantId, c.req.valid("query"), toProviderDto), 200),
  );
}
