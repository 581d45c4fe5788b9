import { inArray, sql } from "drizzle-orm";
import { campaigns, lists, providers, templates } from "../../../db/schema";
import { HeraldError, type FieldError } from "../../../errors";
import { uuidOr404 } from "../../../lib/schemas";
import { findTenantRow } from "../../../lib/tenant-rows";
import type { Db } from "../../../services/db";
import type { CreateCampaignBody } from "./schema";

type CampaignFields = Partial<Omit<import("@hono/zod-openapi").z.infer<typeof CreateCampaignBody>, "reply_to">> & {
  reply_to?: string | null;
};

const noSuchCampaign = () => new HeraldError("not_found", "no such campaign");

/** A path id as a campaign id: one that is not even a UUID is simply not found, before any query. */
export function campaignIdOf(id: string): string {
  return uuidOr404(id, noSuchCampaign);
}

export function findCampaign(db: Db, tenantId: string, id: string) {
  return findTenantRow(db, campaigns, tenantId, id, noSuchCampaign);
}

/** The columns a create or an update body sets; fields left out of an update stay undefined (unchanged). */
export function campaignColumns<B extends CampaignFields>(body: B) {
  const columns: {
    name: B["name"];
    templateId: B["template_id"];
    listIds: B["list_ids"];
    fromAddress: B["from"];
    replyTo: B["reply_to"];
    providerIds: B["provider_ids"];
    data: B["data"];
    trackOpens: B["track_opens"];
    trackClicks: B["track_clicks"];
  } = {
    name: body.name,
    templateId: body.template_id,
    listIds: body.list_ids,
    fromAddress: body.from,
    replyTo: body.reply_to,
    providerIds: body.provider_ids,
    data: body.data,
    trackOpens: body.track_opens,
    trackClicks: body.track_clicks,
  };
  return columns;
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
