import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { and, eq } from "drizzle-orm";
import { webhookEndpoints } from "../../../db/schema";
import type { HonoEnv } from "../../../env";
import { destinationPolicy } from "../../../lib/destination";
import { IdParam, problems } from "../../../lib/schemas";
import { requireScope } from "../../../middleware/auth";
import { findEndpoint, noSuchEndpoint } from "./get";
import { checkWebhookUrl, toEndpointDto, uniqueTypes, UpdateWebhookBody, WebhookEndpointSchema } from "./schema";

const route = createRoute({
  method: "patch",
  path: "/{id}",
  tags: ["webhooks"],
  summary: "Change a webhook endpoint's URL, event types, description, enabled flag or signature scheme (the secret stays the same)",
  security: [{ bearerAuth: [] }],
  middleware: [requireScope("webhooks:write")] as const,
  request: {
    params: IdParam,
    body: { required: true, content: { "application/json": { schema: UpdateWebhookBody } } },
  },
  responses: {
    200: { description: "The endpoint", content: { "application/json": { schema: WebhookEndpointSchema } } },
    ...problems(400, 401, 403, 404, 413, 415, 422),
  },
});

export function registerPatch(api: OpenAPIHono<HonoEnv>) {
  api.openapi(route, async (c) => {
    const { tenantId } = c.var.principal;
    const existing = await findEndpoint(c.var.db, tenantId, c.req.valid("param").id);
    const body = c.req.valid("json");
    if (body.url !== undefined) checkWebhookUrl(body.url, destinationPolicy(c.env));
    const changes: Partial<typeof webhookEndpoints.$inferInsert> = { updatedAt: new Date() };
    if (body.url !== undefined) changes.url = body.url;
    if (body.event_types !== undefined) changes.eventTypes = uniqueTypes(body.event_types);
    if (body.description !== undefined) changes.description = body.description;
    if (body.enabled !== undefined) changes.enabled = body.enabled;
    // Takes effect from the next attempt, retries of deliveries already queued included; both schemes
    // key their HMAC with the same secret, so the receiver keeps the one it has.
    if (body.signature_scheme !== undefined) changes.signatureScheme = body.signature_scheme;
    const [row] = await c.var.db
      .update(webhookEndpoints)
      .set(changes)
      .where(and(eq(webhookEndpoints.tenantId, tenantId), eq(webhookEndpoints.id, existing.id)))
      .returning();
    if (!row) throw noSuchEndpoint();
    c.var.logger.info("webhook endpoint updated", { endpoint_id: row.id, fields: Object.keys(body) });
    return c.json(toEndpointDto(row), 200);
  });
}
