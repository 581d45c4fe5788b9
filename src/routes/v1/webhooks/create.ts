import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { and, eq } from "drizzle-orm";
import { webhookEndpoints } from "../../../db/schema";
import type { HonoEnv } from "../../../env";
import { destinationPolicy } from "../../../lib/destination";
import { uuidv7 } from "../../../lib/ids";
import { IdParam, problems } from "../../../lib/schemas";
import { requireScope } from "../../../middleware/auth";
import { newWebhookSecret, sealWebhookSecret } from "../../../webhooks/outbound/sign";
import { findEndpoint, noSuchEndpoint } from "./get";
import { checkWebhookUrl, CreateWebhookBody, toEndpointDto, uniqueTypes, WebhookEndpointWithSecretSchema } from "./schema";

const createRoute_ = createRoute({
  method: "post",
  path: "/",
  tags: ["webhooks"],
  summary: "Register a webhook endpoint. The answer carries its signing secret, shown this once and never again.",
  security: [{ bearerAuth: [] }],
  middleware: [requireScope("webhooks:write")] as const,
  request: { body: { required: true, content: { "application/json": { schema: CreateWebhookBody } } } },
  responses: {
    201: { description: "The new endpoint and its signing secret", content: { "application/json": { schema: WebhookEndpointWithSecretSchema } } },
    ...problems(400, 401, 403, 413, 415, 422, 503),
  },
});

const rotateRoute = createRoute({
  method: "post",
  path: "/{id}/rotate-secret",
  tags: ["webhooks"],
  summary: "Replace the endpoint's signing secret. The new one is shown this once; the old one stops signing at once.",
  security: [{ bearerAuth: [] }],
  middleware: [requireScope("webhooks:write")] as const,
  request: { params: IdParam },
  responses: {
    200: { description: "The endpoint and its new signing secret", content: { "application/json": { schema: WebhookEndpointWithSecretSchema } } },
    ...problems(401, 403, 404, 503),
  },
});

export function registerCreate(api: OpenAPIHono<HonoEnv>) {
  api.openapi(createRoute_, async (c) => {
    const body = c.req.valid("json");
    checkWebhookUrl(body.url, destinationPolicy(c.env));
    const id = uuidv7();
    const secret = newWebhookSecret();
    const [row] = await c.var.db
      .insert(webhookEndpoints)
      .values({
        id,
        tenantId: c.var.principal.tenantId,
        url: body.url,
        description: body.description ?? null,
        eventTypes: uniqueTypes(body.event_types),
        secret: await sealWebhookSecret(id, secret, c.env),
        enabled: body.enabled,
      })
      .returning();
    c.var.logger.info("webhook endpoint created", { endpoint_id: id, event_types: row!.eventTypes });
    return c.json({ ...toEndpointDto(row!), secret }, 201);
  });

  api.openapi(rotateRoute, async (c) => {
    const { tenantId } = c.var.principal;
    const existing = await findEndpoint(c.var.db, tenantId, c.req.valid("param").id);
    const secret = newWebhookSecret();
    const [row] = await c.var.db
      .update(webhookEndpoints)
      .set({ secret: await sealWebhookSecret(existing.id, secret, c.env), updatedAt: new Date() })
      .where(and(eq(webhookEndpoints.tenantId, tenantId), eq(webhookEndpoints.id, existing.id)))
      .returning();
    if (!row) throw noSuchEndpoint();
    c.var.logger.info("webhook secret rotated", { endpoint_id: row.id });
    return c.json({ ...toEndpointDto(row), secret }, 200);
  });
}
