import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { etag } from "hono/etag";
import type { HonoEnv } from "../../../env";
import { IdParam, problems } from "../../../lib/schemas";
import { requireScope } from "../../../middleware/auth";
import { TemplateSchema, toTemplateDto } from "./schema";
import { findTemplate, TEMPLATE_CACHE_SECONDS, templateCacheKey } from "./store";

const route = createRoute({
  method: "get",
  path: "/{id}",
  tags: ["templates"],
  summary: "Get one template",
  security: [{ bearerAuth: [] }],
  // ETag answers If-None-Match with 304; the client must revalidate every time (no-cache).
  middleware: [requireScope("templates:read"), etag({ weak: true })] as const,
  request: { params: IdParam },
  responses: {
    200: { description: "The template", content: { "application/json": { schema: TemplateSchema } } },
    ...problems(401, 403, 404),
  },
});

export function registerGet(api: OpenAPIHono<HonoEnv>) {
  api.openapi(route, async (c) => {
    const { tenantId } = c.var.principal;
    const id = c.req.valid("param").id.toLowerCase();
    const key = templateCacheKey(tenantId, id);
    let dto = await c.var.cache.get<ReturnType<typeof toTemplateDto>>(key).catch(() => undefined);
    if (!dto) {
      dto = toTemplateDto(await findTemplate(c.var.db, tenantId, id));
      c.var.defer(c.var.cache.set(key, dto, TEMPLATE_CACHE_SECONDS));
    }
    c.header("cache-control", "private, no-cache");
    return c.json(dto, 200);
  });
}
