import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { providers } from "../../../db/schema";
import type { HonoEnv } from "../../../env";
import { destinationPolicy } from "../../../lib/destination";
import { uuidv7 } from "../../../lib/ids";
import { problems } from "../../../lib/schemas";
import { requireScope } from "../../../middleware/auth";
import { CreateProviderBody, ProviderSchema, toProviderDto } from "./schema";
import { checkSettings, limitErrors, sealCredentials } from "./settings";

const route = createRoute({
  method: "post",
  path: "/",
  tags: ["providers"],
  summary: "Add a sending provider; its credentials are encrypted and never shown again",
  security: [{ bearerAuth: [] }],
  middleware: [requireScope("providers:write")] as const,
  request: { body: { required: true, content: { "application/json": { schema: CreateProviderBody } } } },
  responses: {
    201: { description: "The new provider", content: { "application/json": { schema: ProviderSchema } } },
    ...problems(400, 401, 403, 413, 415, 422, 503),
  },
});

export function registerPost(api: OpenAPIHono<HonoEnv>) {
  api.openapi(route, async (c) => {
    const body = c.req.valid("json");
    const limits = limitErrors(body.rate_per_second, body.daily_quota, { rate: true, quota: true });
    const settings = checkSettings(
      body.kind,
      { config: body.config, credentials: body.credentials ?? null },
      destinationPolicy(c.env),
      undefined,
      limits,
    );
    const id = uuidv7();
    const sealed = await sealCredentials(id, settings.credentials ?? null, c.env);
    const [row] = await c.var.db
      .insert(providers)
      .values({
        id,
        tenantId: c.var.principal.tenantId,
        name: body.name,
        kind: body.kind,
        config: settings.config ?? {},
        credentials: sealed,
        ratePerSecond: body.rate_per_second,
        dailyQuota: body.daily_quota,
        priority: body.priority,
        enabled: body.enabled,
      })
      .returning();
    c.var.logger.info("provider created", { provider_id: id, kind: body.kind });
    return c.json(toProviderDto(row!), 201);
  });
}
