import { and, desc, eq, sql } from "drizzle-orm";
import { type WebhookDeliveryStatus, webhookDeliveries, webhookEndpoints } from "../db/schema";
import { HeraldError } from "../errors";
import { idPage, newestFirst, type Page, type PageRequest, tenantRowsBefore } from "../lib/keyset";
import { uuidOr404 } from "../lib/schemas";
import { deleteTenantRow, findTenantRow } from "../lib/tenant-rows";
import type { Db } from "../services/db";

// The SQL of the webhook API: endpoints and their delivery log as tenants manage them. The queue
// consumer's own delivery SQL is in outbound/delivery-rows.ts.

export type EndpointRow = typeof webhookEndpoints.$inferSelect;
export type DeliveryRow = typeof webhookDeliveries.$inferSelect;
/** The columns a PATCH may change. */
export type EndpointChanges = Partial<typeof webhookEndpoints.$inferInsert>;

export function noSuchEndpoint(): HeraldError {
  return new HeraldError("not_found", "no such webhook endpoint");
}

function noSuchDelivery(): HeraldError {
  return new HeraldError("not_found", "no such webhook delivery");
}

export function findEndpoint(db: Db, tenantId: string, id: string) {
  return findTenantRow(db, webhookEndpoints, tenantId, id, noSuchEndpoint);
}

/** A delivery of this tenant's endpoint; anything else (another endpoint's included) is not found. */
export async function findDelivery(db: Db, tenantId: string, endpointId: string, deliveryId: string) {
  const missing = noSuchDelivery();
  const endpoint = uuidOr404(endpointId, noSuchEndpoint);
  const delivery = uuidOr404(deliveryId, () => missing);
  const [row] = await db
    .select()
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.tenantId, tenantId), eq(webhookDeliveries.endpointId, endpoint), eq(webhookDeliveries.id, delivery)))
    .limit(1);
  if (!row) throw missing;
  return row;
}

/** A page of the tenant's endpoints, newest first. */
export function endpointPage<Dto>(db: Db, tenantId: string, query: PageRequest, toDto: (row: EndpointRow) => Dto): Promise<Page<Dto>> {
  return newestFirst(db, webhookEndpoints, tenantId, query, toDto);
}

export async function insertEndpoint(db: Db, endpoint: typeof webhookEndpoints.$inferInsert): Promise<EndpointRow> {
  const [row] = await db.insert(webhookEndpoints).values(endpoint).returning();
  return row!;
}

export async function updateEndpoint(db: Db, tenantId: string, id: string, changes: EndpointChanges): Promise<EndpointRow> {
  const [row] = await db
    .update(webhookEndpoints)
    .set(changes)
    .where(and(eq(webhookEndpoints.tenantId, tenantId), eq(webhookEndpoints.id, id)))
    .returning();
  if (!row) throw noSuchEndpoint();
  return row;
}

/**
 * Stores a new sealed secret. A "standard" endpoint keeps the one it replaces until `expires`; a
 * "herald" endpoint keeps none.
 */
export async function rotateEndpointSecret(db: Db, tenantId: string, id: string, sealed: string, now: Date, expires: string) {
  // The scheme and the replaced secret are read in the UPDATE itself, so a concurrent rotation or
  // scheme change cannot make the overlap keep a secret that was not the one replaced here. Rotating
  // again during an overlap drops the oldest secret: at most two ever sign.
  const standard = sql`${webhookEndpoints.signatureScheme} = 'standard'`;
  const [row] = await db
    .update(webhookEndpoints)
    .set({
      secret: sealed,
      previousSecret: sql`CASE WHEN ${standard} THEN ${webhookEndpoints.secret} END`,
      previousSecretExpiresAt: sql`CASE WHEN ${standard} THEN ${expires}::timestamptz END`,
      updatedAt: now,
    })
    .where(and(eq(webhookEndpoints.tenantId, tenantId), eq(webhookEndpoints.id, id)))
    .returning();
  if (!row) throw noSuchEndpoint();
  return row;
}

/** Deletes the tenant's endpoint with its delivery log and answers its id. */
export function deleteEndpoint(db: Db, tenantId: string, id: string): Promise<string> {
  return deleteTenantRow(db, webhookEndpoints, tenantId, id, noSuchEndpoint);
}

/** A page of the delivery log of the tenant's endpoint `endpointId`, newest first, optionally of one status. */
export function deliveryPage<Dto>(
  db: Db,
  tenantId: string,
  endpointId: string,
  query: PageRequest & { status?: WebhookDeliveryStatus },
  toDto: (row: DeliveryRow) => Dto,
): Promise<Page<Dto>> {
  const { status, ...page } = query;
  return idPage(
    page,
    async (before, take) => {
      const endpoint = await findEndpoint(db, tenantId, endpointId);
      return db
        .select()
        .from(webhookDeliveries)
        .where(
          tenantRowsBefore(
            webhookDeliveries,
            tenantId,
            before,
            eq(webhookDeliveries.endpointId, endpoint.id),
            status ? eq(webhookDeliveries.status, status) : undefined,
          ),
        )
        .orderBy(desc(webhookDeliveries.id))
        .limit(take);
    },
    toDto,
  );
}

/** Puts a delivery back to pending, whatever its status, ready to be queued again. */
export async function resetDelivery(db: Db, tenantId: string, deliveryId: string): Promise<DeliveryRow> {
  const [row] = await db
    .update(webhookDeliveries)
    .set({ status: "pending", deliveredAt: null, updatedAt: new Date() })
    .where(and(eq(webhookDeliveries.tenantId, tenantId), eq(webhookDeliveries.id, deliveryId)))
    .returning();
  if (!row) throw noSuchDelivery();
  return row;
}
