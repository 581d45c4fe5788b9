import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { and, eq, sql } from "drizzle-orm";
import { webhookEndpoints } from "../../../db/schema";
import type { HonoEnv } from "../../../env";
import { destinationPolicy } from "../../../lib/destination";
import { uuidv7 } from "../../../lib/ids";
import { IdParam, problems } from "../../../lib/schemas";
import { requireScope } from "../../../middleware/auth";
import { overlapEnd, ROTATION_OVERLAP_SECONDS } from "../../../webhooks/outbound/headers";
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
    201: {
      description: "The new endpoint and its signing secret",
      content: { "application/json": { schema: WebhookEndpointWithSecretSchema } },
    },
    ...problems(400, 401, 403, 413, 415, 422, 503),
  },
});

const rotateRoute = createRoute({
  method: "post",
  path: "/{id}/rotate-secret",
  tags: ["webhooks"],
  summary:
    'Replace the endpoint\'s signing secret. The new one is shown this once. For a "herald" endpoint the old one stops signing at once; ' +
    `a "standard" endpoint signs with both for ${ROTATION_OVERLAP_SECONDS / 3600} hours (until previous_secret_expires_at), then with the new one only.`,
  security: [{ bearerAuth: [] }],
  middleware: [requireScope("webhooks:write")] as const,
  request: { params: IdParam },
  responses: {
    200: {
      description: "The endpoint and its new signing secret",
      content: { "application/json": { schema: WebhookEndpointWithSecretSchema } },
    },
    ...problems(401, 403, 404, 503),
  },
});

export function registerPost(api: OpenAPIHono<HonoEnv>) {
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
        signatureScheme: body.signature_scheme,
      })
      .returning();
    c.var.logger.info("webhook endpoint created", {
      endpoint_id: id,
      event_types: row!.eventTypes,
      signature_scheme: row!.signatureScheme,
    });
    return c.json({ ...toEndpointDto(row!), secret }, 201);
  });

  api.openapi(rotateRoute, async (c) => {
    const { tenantId } = c.var.principal;
    const existing = await findEndpoint(c.var.db, tenantId, c.req.valid("param").id);
    const secret = newWebhookSecret();
    const now = new Date();
    const expires = overlapEnd(now).toISOString();
    // The scheme and the replaced secret are read in the UPDATE itself, so a concurrent rotation or
    // scheme change cannot make the overlap keep a secret that was not the one replaced here. Rotating
    // again during an overlap drops the oldest secret: at most two ever sign.
    const standard = sql`${webhookEndpoints.signatureScheme} = 'standard'`;
    const [row] = await c.var.db
      .update(webhookEndpoints)
      .set({
        secret: await sealWebhookSecret(existing.id, secret, c.env),
        previousSecret: sql`CASE WHEN ${standard} THEN ${webhookEndpoints.secret} END`,
        previousSecretExpiresAt: sql`CASE WHEN ${standard} THEN ${expires}::timestamptz END`,
        updatedAt: now,
      })
      .where(and(eq(webhookEndpoints.tenantId, tenantId), eq(webhookEndpoints.id, existing.id)))
      .returning();
    if (!row) throw noSuchEndpoint();
    c.var.logger.info("webhook secret rotated", {
      endpoint_id: row.id,
      previous_secret_expires_at: row.previousSecretExpiresAt?.toISOString() ?? null,
    });
    return c.json({ ...toEndpointDto(row), secret }, 200);
  });
}
