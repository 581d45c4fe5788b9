import { defineRoute, type Handler, type ResponseBody } from "../../define";
import { IdParam } from "../../../lib/schemas";
import { overlapEnd, ROTATION_OVERLAP_SECONDS } from "../../../webhooks/outbound/headers";
import { newWebhookSecret, sealWebhookSecret } from "../../../webhooks/outbound/sign";
import { findEndpoint, rotateEndpointSecret } from "../../../webhooks/store";
import { toEndpointDto, WebhookEndpointWithSecretSchema } from "./schema";

export const route = defineRoute("post", "/{id}/rotate-secret", "webhooks:write", {
  summary:
    'Replace the endpoint\'s signing secret. The new one is shown this once. For a "herald" endpoint the old one stops signing at once; ' +
    `a "standard" endpoint signs with both for ${ROTATION_OVERLAP_SECONDS / 3600} hours (until previous_secret_expires_at), then with the new one only.`,
  request: { params: IdParam },
  responses: [[200, WebhookEndpointWithSecretSchema, "The endpoint and its new signing secret"], 404, 503],
});

export const handler: Handler<typeof route> = async (c) => {
  const { tenantId } = c.var.principal;
  const existing = await findEndpoint(c.var.db, tenantId, c.req.valid("param").id);
  const secret = newWebhookSecret();
  const now = new Date();
  const expires = overlapEnd(now).toISOString();
  const sealed = await sealWebhookSecret(existing.id, secret, c.env);
  const row = await rotateEndpointSecret(c.var.db, tenantId, existing.id, sealed, now, expires);
  c.var.logger.info("webhook secret rotated", {
    endpoint_id: row.id,
    previous_secret_expires_at: row.previousSecretExpiresAt?.toISOString() ?? null,
  });
  return c.json({ ...toEndpointDto(row), secret }, 200);
};

export type RotateWebhookSecretResponse = ResponseBody<typeof route>;
