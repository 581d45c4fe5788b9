import { and, arrayContains, asc, eq, gt, inArray, sql } from "drizzle-orm";
import { messages } from "../../db/messages-table";
import { campaigns, lists, providers, templates, type CampaignState, type MessageStatus } from "../../db/schema";
import { HeraldError, type FieldError } from "../../errors";
import { newestFirst, type PageRequest } from "../../lib/keyset";
import { uuidOr404 } from "../../lib/schemas";
import { findTenantRow } from "../../lib/tenant-rows";
import type { Db } from "../../services/db";
import { toCampaignDto } from "../schema";

/** What the campaign routes read: one campaign, a page of them, the references a body names, a campaign's messages and stats. */

const noSuchCampaign = () => new HeraldError("not_found", "no such campaign");

/** A path id as a campaign id: one that is not even a UUID is simply not found, before any query. */
export function campaignIdOf(id: string): string {
  return uuidOr404(id, noSuchCampaign);
}

export function findCampaign(db: Db, tenantId: string, id: string) {
  return findTenantRow(db, campaigns, tenantId, id, noSuchCampaign);
}

/** A page of the tenant's campaigns, newest first, optionally only those in one state. */
export function listCampaigns(db: Db, tenantId: string, page: PageRequest, state?: CampaignState) {
  return newestFirst(db, campaigns, tenantId, page, toCampaignDto, state ? eq(campaigns.state, state) : undefined);
}

/** Every referenced template, list and provider must be the caller's own; one round trip checks all. */
export async function checkReferences(
  db: Db,
  tenantId: string,
  refs: { template_id?: string; list_ids?: string[]; provider_ids?: string[] },
): Promise<void> {
  const [found] = await db
    .select({
      template: refs.template_id
        ? sql<number>`(SELECT count(*)::int FROM ${templates} WHERE ${templates.tenantId} = ${tenantId} AND ${templates.id} = ${refs.template_id})`
        : sql<number>`1`,
      lists: refs.list_ids
        ? sql<
            string[]
          >`(SELECT coalesce(array_agg(${lists.id}::text), '{}') FROM ${lists} WHERE ${lists.tenantId} = ${tenantId} AND ${inArray(lists.id, refs.list_ids)})`
        : sql<string[]>`'{}'::text[]`,
      providers: refs.provider_ids
        ? sql<
            string[]
          >`(SELECT coalesce(array_agg(${providers.id}::text), '{}') FROM ${providers} WHERE ${providers.tenantId} = ${tenantId} AND ${inArray(providers.id, refs.provider_ids)})`
        : sql<string[]>`'{}'::text[]`,
    })
    .from(sql`(SELECT 1) AS one`);
  const errors: FieldError[] = [];
  if (refs.template_id && found!.template === 0) errors.push({ field: "body.template_id", message: "no such template" });
  refs.list_ids?.forEach((id, i) => {
    if (!found!.lists.includes(id)) errors.push({ field: `body.list_ids.${i}`, message: "no such list" });
  });
  refs.provider_ids?.forEach((id, i) => {
    if (!found!.providers.includes(id)) errors.push({ field: `body.provider_ids.${i}`, message: "no such provider" });
  });
  if (errors.length > 0) {
    throw new HeraldError("validation_failed", `unknown ${errors.map((e) => e.field).join(", ")}`, { errors });
  }
}

/** Up to `take` of the campaign's messages after the id `after`, oldest first, optionally only those with one status. */
export async function campaignMessages(
  db: Db,
  tenantId: string,
  campaign: { id: string; messageMonth: string | null },
  filter: { status?: MessageStatus; after?: string; take: number },
) {
  if (!campaign.messageMonth) return [];
  const conditions = [
    // The month pins the query to the campaign's partition.
    eq(messages.month, campaign.messageMonth),
    eq(messages.tenantId, tenantId),
    eq(messages.campaignId, campaign.id),
    filter.status ? eq(messages.status, filter.status) : undefined,
    filter.after ? gt(messages.id, filter.after) : undefined,
  ];
  return db
    .select()
    .from(messages)
    .where(and(...conditions))
    .orderBy(asc(messages.id))
    .limit(filter.take);
}

export const ENGAGEMENT_KINDS = ["delivered", "opened", "clicked", "bounced", "complained", "unsubscribed"] as const;
export type EngagementKind = (typeof ENGAGEMENT_KINDS)[number];
export type CampaignStatsRow = Record<EngagementKind, number> & { sent: number; unknown: number };

/**
 * The campaign's sent and unknown counts and, per kind, the messages with at least one such event,
 * in one round trip; undefined when the tenant has no such campaign. A message opened five times
 * counts once; unsubscribes without a message id count by address.
 */
export async function campaignStats(db: Db, tenantId: string, id: string): Promise<CampaignStatsRow | undefined> {
  const result = await db.execute<Record<EngagementKind, number | string> & { sent: number | string; unknown: number | string }>(sql`
      SELECT c.sent, c.unknown,
        count(DISTINCT e.message_id) FILTER (WHERE e.type = 'delivered') AS delivered,
        count(DISTINCT e.message_id) FILTER (WHERE e.type = 'opened') AS opened,
        count(DISTINCT e.message_id) FILTER (WHERE e.type = 'clicked') AS clicked,
        count(DISTINCT e.message_id) FILTER (WHERE e.type = 'bounced') AS bounced,
        count(DISTINCT e.message_id) FILTER (WHERE e.type = 'complained') AS complained,
        count(DISTINCT coalesce(e.message_id::text, e.email)) FILTER (WHERE e.type = 'unsubscribed') AS unsubscribed
      FROM campaigns c
      LEFT JOIN events e
        ON e.tenant_id = c.tenant_id AND e.campaign_id = c.id
        AND e.type IN ('delivered', 'opened', 'clicked', 'bounced', 'complained', 'unsubscribed')
      WHERE c.tenant_id = ${tenantId}::uuid AND c.id = ${id}::uuid
      GROUP BY c.id, c.sent, c.unknown`);
  const row = result.rows[0];
  if (!row) return undefined;
  const counts = Object.fromEntries(ENGAGEMENT_KINDS.map((k) => [k, Number(row[k])])) as Record<EngagementKind, number>;
  return { sent: Number(row.sent), unknown: Number(row.unknown), ...counts };
}

/** A campaign of the tenant that is live (scheduled, sending or paused) and sends through the provider, if any. */
export async function liveCampaignUsing(db: Db, tenantId: string, providerId: string): Promise<{ id: string } | undefined> {
  const [live] = await db
    .select({ id: campaigns.id })
    .from(campaigns)
    .where(
      and(
        eq(campaigns.tenantId, tenantId),
        inArray(campaigns.state, ["scheduled", "sending", "paused"]),
        arrayContains(campaigns.providerIds, [providerId]),
      ),
    )
    .limit(1);
  return live;
}
