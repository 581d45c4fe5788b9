import { z } from "@hono/zod-openapi";
import { CAMPAIGN_STATES } from "./machine";
import type { campaigns } from "../db/schema";
import { Address, Timestamp } from "../lib/schemas";

export const CampaignSchema = z
  .object({
    id: z.string().uuid(),
    name: z.string(),
    template_id: z.string().uuid().nullable(),
    list_ids: z.array(z.string().uuid()),
    from: z.string(),
    reply_to: z.string().nullable(),
    provider_ids: z.array(z.string().uuid()).openapi({ description: "Ordered failover policy" }),
    data: z.record(z.string(), z.unknown()),
    track_opens: z.boolean(),
    track_clicks: z.boolean(),
    state: z.enum(CAMPAIGN_STATES),
    scheduled_at: Timestamp.nullable(),
    started_at: Timestamp.nullable(),
    completed_at: Timestamp.nullable(),
    template_version: z.number().int().nullable(),
    counts: z.object({
      total: z.number().int(),
      sent: z.number().int(),
      failed: z.number().int(),
      skipped: z.number().int(),
      unknown: z.number().int().openapi({
        description:
          "Recipients whose batch may or may not have reached the provider (a timeout or a lost connection after sending). Never re-sent automatically.",
      }),
    }),
    failure_reason: z.string().nullable().openapi({ description: "Why the campaign failed, when it did" }),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi("Campaign");

const uuidList = (max: number) =>
  z
    .array(z.string().uuid())
    .min(1)
    .max(max)
    .refine((a) => new Set(a).size === a.length, "must not repeat ids");

export const CreateCampaignBody = z
  .object({
    name: z.string().trim().min(1).max(200),
    template_id: z.string().uuid(),
    list_ids: uuidList(20),
    from: Address,
    reply_to: Address.optional(),
    provider_ids: uuidList(5),
    data: z
      .record(z.string(), z.unknown())
      .default({})
      .refine((d) => JSON.stringify(d).length <= 16_384, "must be at most 16 KB of JSON"),
    track_opens: z.boolean().optional().openapi({ description: "Add an open-tracking pixel to HTML mail" }),
    track_clicks: z.boolean().optional().openapi({ description: "Route links through herald's click redirect" }),
  })
  .strict()
  .openapi("CreateCampaign");

export const UpdateCampaignBody = CreateCampaignBody.partial()
  .extend({ reply_to: Address.nullable().optional() })
  .strict()
  .refine((b) => Object.keys(b).length > 0, "give at least one field to change")
  .openapi("UpdateCampaign");

export const ScheduleBody = z
  .object({
    scheduled_at: z.iso.datetime({ offset: true }).refine((v) => Date.parse(v) > Date.now() - 60_000, "must not be in the past"),
  })
  .strict()
  .openapi("ScheduleCampaign");

type Row = typeof campaigns.$inferSelect;

export function toCampaignDto(row: Row) {
  return {
    id: row.id,
    name: row.name,
    template_id: row.templateId,
    list_ids: row.listIds,
    from: row.fromAddress,
    reply_to: row.replyTo,
    provider_ids: row.providerIds,
    data: row.data,
    track_opens: row.trackOpens,
    track_clicks: row.trackClicks,
    state: row.state,
    scheduled_at: row.scheduledAt?.toISOString() ?? null,
    started_at: row.startedAt?.toISOString() ?? null,
    completed_at: row.completedAt?.toISOString() ?? null,
    template_version: row.templateSnapshot?.version ?? null,
    counts: { total: row.total, sent: row.sent, failed: row.failed, skipped: row.skipped, unknown: row.unknown },
    failure_reason: row.failureReason,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

type CampaignFields = Partial<Omit<z.infer<typeof CreateCampaignBody>, "reply_to">> & {
  reply_to?: string | null;
};

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
