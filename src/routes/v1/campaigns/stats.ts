import { z } from "@hono/zod-openapi";
import { defineRoute, type Handler, type ResponseBody } from "../../define";
import { campaignIdOf, campaignStats, ENGAGEMENT_KINDS, type EngagementKind } from "../../../campaigns/store/campaign-reads";
import { HeraldError } from "../../../errors";
import { IdParam } from "../../../lib/schemas";

const Count = z.number().int();
const Rate = z.number().openapi({ description: "count / sent, to 4 decimals; 0 while nothing is sent", example: 0.4213 });

const StatsSchema = z
  .object({
    campaign_id: z.string().uuid(),
    sent: Count.openapi({ description: "Messages the providers accepted" }),
    unknown: Count.openapi({ description: "Messages whose batch may or may not have reached the provider; never re-sent automatically" }),
    delivered: Count,
    opened: Count,
    clicked: Count,
    bounced: Count,
    complained: Count,
    unsubscribed: Count,
    rates: z.object({ delivered: Rate, opened: Rate, clicked: Rate, bounced: Rate, complained: Rate, unsubscribed: Rate }),
  })
  .openapi("CampaignStats");

export const route = defineRoute("get", "/{id}/stats", "campaigns:read", {
  summary: "Delivery and engagement: messages with at least one event of each kind, and their share of those sent",
  request: { params: IdParam },
  responses: [[200, StatsSchema, "Stats"], 404],
});

/** A share of `sent`, rounded to 4 decimals; 0 when nothing is sent. */
export function rate(count: number, sent: number): number {
  return sent > 0 ? Math.round((count / sent) * 10_000) / 10_000 : 0;
}

export const handler: Handler<typeof route> = async (c) => {
  const id = campaignIdOf(c.req.valid("param").id);
  const stats = await campaignStats(c.var.db, c.var.principal.tenantId, id);
  if (!stats) throw new HeraldError("not_found", "no such campaign");
  const { sent, unknown, ...counts } = stats;
  const rates = Object.fromEntries(ENGAGEMENT_KINDS.map((k) => [k, rate(counts[k], sent)])) as Record<EngagementKind, number>;
  return c.json({ campaign_id: id, sent, unknown, ...counts, rates }, 200);
};

export type GetCampaignStatsResponse = ResponseBody<typeof route>;
