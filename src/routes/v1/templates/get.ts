import { createRoute } from "@hono/zod-openapi";
import type { Handler, ResponseBody } from "../../define";
import { matchesIfNoneMatch, versionEtag } from "../../../lib/etag";
import { IdParam, problems } from "../../../lib/schemas";
import { requireScope } from "../../../middleware/auth";
import { findTemplate, TEMPLATE_CACHE_SECONDS, templateCacheKey } from "../../../templates/store";
import { TemplateSchema, toTemplateDto } from "./schema";

// createRoute rather than defineRoute: besides its JSON answer this route answers 304 to a
// conditional request, which a RouteSpec's single success answer cannot describe.
export const route = createRoute({
  method: "get",
  path: "/{id}",
  summary: "Get one template",
  security: [{ bearerAuth: [] }],
  middleware: [requireScope("templates:read")] as const,
  request: { params: IdParam },
  responses: {
    200: { description: "The template", content: { "application/json": { schema: TemplateSchema } } },
    304: { description: "Not modified: the If-None-Match tag is current" },
    ...problems(401, 403, 404),
  },
});

export const handler: Handler<typeof route> = async (c) => {
  const { tenantId } = c.var.principal;
  const id = c.req.valid("param").id.toLowerCase();
  const key = templateCacheKey(tenantId, id);
  let dto = await c.var.cache.get<ReturnType<typeof toTemplateDto>>(key).catch(() => undefined);
  if (!dto) {
    dto = toTemplateDto(await findTemplate(c.var.db, tenantId, id));
    c.var.defer(c.var.cache.set(key, dto, TEMPLATE_CACHE_SECONDS));
  }
  // Every update bumps updated_at, so it versions the whole body. The client must revalidate
  // every time (no-cache) and gets 304 while its tag is current.
  const tag = versionEtag(dto.id, dto.version, Date.parse(dto.updated_at));
  c.header("etag", tag);
  c.header("cache-control", "private, no-cache");
  if (matchesIfNoneMatch(c.req.header("if-none-match"), tag)) return c.body(null, 304);
  return c.json(dto, 200);
};

export type GetTemplateResponse = ResponseBody<typeof route>;
