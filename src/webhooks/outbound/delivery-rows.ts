import { sql } from "drizzle-orm";
import type { WebhookSignatureScheme } from "../../db/schema";
import type { Db } from "../../services/db";

// The delivery log's SQL for the webhook consumer (queues/webhooks.ts): load a delivery with its
// endpoint, settle it, record a failed attempt, give it up.

export interface DeliveryRow extends Record<string, unknown> {
  id: string;
  status: string;
  payload: Record<string, unknown>;
  endpoint_id: string;
  url: string;
  secret: string;
  /** Null unless a rotation's overlap is still running. */
  previous_secret: string | null;
  signature_scheme: WebhookSignatureScheme;
  enabled: boolean;
}

export async function loadDelivery(db: Db, tenantId: string, deliveryId: string): Promise<DeliveryRow | undefined> {
  const result = await db.execute<DeliveryRow>(sql`
    SELECT d.id, d.status, d.payload, d.endpoint_id, e.url, e.secret, e.enabled, e.signature_scheme,
           -- The worker's clock, which stamped the overlap's end when rotating and signs the timestamp.
           CASE WHEN e.previous_secret_expires_at > ${new Date().toISOString()}::timestamptz THEN e.previous_secret END AS previous_secret
    FROM webhook_deliveries d
    JOIN webhook_endpoints e ON e.id = d.endpoint_id AND e.tenant_id = d.tenant_id
    WHERE d.tenant_id = ${tenantId} AND d.id = ${deliveryId}`);
  return result.rows[0];
}

export interface Settlement {
  status: "succeeded" | "failed";
  /** Whether an HTTP request was made (it counts as an attempt and its status is kept). */
  attempted: boolean;
  responseStatus: number | null;
  error: string | null;
}

/** Settles a delivery; only a pending one, so a late duplicate never overwrites a redelivery's result. */
export async function settleDelivery(db: Db, tenantId: string, deliveryId: string, s: Settlement) {
  await db.execute(sql`
    UPDATE webhook_deliveries
    SET status = ${s.status},
        attempts = attempts + ${s.attempted ? 1 : 0},
        response_status = ${s.attempted ? s.responseStatus : sql`response_status`},
        error = ${s.error},
        delivered_at = ${s.status === "succeeded" ? sql`now()` : sql`delivered_at`},
        updated_at = now()
    WHERE tenant_id = ${tenantId} AND id = ${deliveryId} AND status = 'pending'`);
}

/** Records a failed attempt; the delivery stays pending for its retry. */
export async function recordFailure(db: Db, tenantId: string, deliveryId: string, responseStatus: number | null, error: string) {
  await db.execute(sql`
    UPDATE webhook_deliveries
    SET attempts = attempts + 1, response_status = ${responseStatus}, error = ${error}, updated_at = now()
    WHERE tenant_id = ${tenantId} AND id = ${deliveryId} AND status = 'pending'`);
}

/**
 * Marks a pending delivery failed for good, keeping its last attempt's answer and error; returns its
 * endpoint and attempts, or undefined when it was not pending.
 */
export async function abandonDelivery(
  db: Db,
  tenantId: string,
  deliveryId: string,
): Promise<{ endpoint_id: string; attempts: number } | undefined> {
  const result = await db.execute(sql`
    UPDATE webhook_deliveries
    SET status = 'failed', error = coalesce(error, 'delivery abandoned after repeated failures'), updated_at = now()
    WHERE tenant_id = ${tenantId} AND id = ${deliveryId} AND status = 'pending'
    RETURNING endpoint_id, attempts`);
  return result.rows[0] as { endpoint_id: string; attempts: number } | undefined;
}
