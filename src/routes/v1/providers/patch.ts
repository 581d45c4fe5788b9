import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { and, eq } from "drizzle-orm";
import { providers } from "../../../db/schema";
import type { HonoEnv } from "../../../env";
import { destinationPolicy } from "../../../lib/destination";
import { providerCacheKey } from "../../../providers/registry";
import { IdParam, problems } from "../../../lib/schemas";
import { requireScope } from "../../../middleware/auth";
import { findProvider } from "./get";
import { ProviderSchema, toProviderDto, UpdateProviderBody } from "./schema";
import { checkSettings, limitErrors, sealCredentials } from "./settings";

const route = createRoute({
  method: "patch",
  path: "/{id}",
  tags: ["providers"],
  summary:
    "Change a provider. Config is replaced whole when given; credentials only when given, and they must be given again when the config changes where they are sent.",
  security: [{ bearerAuth: [] }],
  middleware: [requireScope("providers:write")] as const,
  request: {
    params: IdParam,
    body: { required: true, content: { "application/json": { schema: UpdateProviderBody } } },
  },
  responses: {
    200: { description: "The provider", content: { "application/json": { schema: ProviderSchema } } },
    ...problems(400, 401, 403, 404, 413, 415, 422, 503),
  },
});

export function registerPatch(api: OpenAPIHono<HonoEnv>) {
  api.openapi(route, async (c) => {
    const { tenantId } = c.var.principal;
    const existing = await findProvider(c.var.db, tenantId, c.req.valid("param").id);
    const body = c.req.valid("json");
    const given = { rate: body.rate_per_second !== undefined, quota: body.daily_quota !== undefined };
    // Only a request that changes a limit is judged on it: a row stored before this rule stays editable.
    const limits =
      given.rate || given.quota
        ? limitErrors(body.rate_per_second ?? existing.ratePerSecond, body.daily_quota ?? existing.dailyQuota, given)
        : [];
    const previous = { config: existing.config, hasCredentials: existing.credentials !== null };
    const settings = checkSettings(
      existing.kind,
      { config: body.config, credentials: body.credentials },
      destinationPolicy(c.env),
      previous,
      limits,
    );
    const changes: Partial<typeof providers.$inferInsert> = { updatedAt: new Date() };
    if (body.name !== undefined) changes.name = body.name;
    if (settings.config !== undefined) changes.config = settings.config;
    if (settings.credentials !== undefined) changes.credentials = await sealCredentials(existing.id, settings.credentials, c.env);
    if (body.rate_per_second !== undefined) changes.ratePerSecond = body.rate_per_second;
    if (body.daily_quota !== undefined) changes.dailyQuota = body.daily_quota;
    if (body.priority !== undefined) changes.priority = body.priority;
    if (body.enabled !== undefined) changes.enabled = body.enabled;
    const [row] = await c.var.db
      .update(providers)
      .set(changes)
      .where(and(eq(providers.tenantId, tenantId), eq(providers.id, existing.id)))
      .returning();
    if (!row) return c.json(toProviderDto(await findProvider(c.var.db, tenantId, existing.id)), 200);
    await c.var.cache.delete(providerCacheKey(c.var.principal.tenantId, row.id));
    c.var.logger.info("provider updated", { provider_id: row.id, fields: Object.keys(body) });
    return c.json(toProviderDto(row), 200);
  });
}
