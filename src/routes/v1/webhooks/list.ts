import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { webhookEndpoints } from "../../../db/schema";
import type { HonoEnv } from "../../../env";
import { newestFirst } from "../../../lib/keyset";
import { PageQuery, pageOf, problems } from "../../../lib/schemas";
import { requireScope } from "../../../middleware/auth";
import { toEndpointDto, WebhookEndpointSchema } from "./schema";

const route = createRoute({
  method: "get",
  path: "/",
  tags: ["webhooks"],
  summary: "List the tenant's webhook endpoints, newest first",
  security: [{ bearerAuth: [] }],
  middleware: [requireScope("webhooks:read")] as const,
  request: { query: PageQuery },
  responses: {
    200: {
      description: "A page of endpoints",
      content: { "application/json": { schema: pageOf(WebhookEndpointSchema, "WebhookEndpointPage") } },
    },
    ...problems(401, 403, 422),
  },
});

export function registerList(api: OpenAPIHono<HonoEnv>) {
  api.openapi(route, async (c) =>
    c.json(await newestFirst(c.var.db, webhookEndpoints, c.var.principal.tenantId, c.req.valid("query"), toEndpointDto), 200),
  );
}
