import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { sql } from "drizzle-orm";
import type { HonoEnv } from "../../../env";
import { HeraldError } from "../../../errors";
import { IdParam, problems } from "../../../lib/schemas";
import { requireScope } from "../../../middleware/auth";
import { campaignIdOf } from "./store";

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

const route = createRoute({
  method: "get",
  path: "/{id}/stats",
  tags: ["campaigns"],
  security: [{ bearerAuth: [] }],
  summary: "Delivery and engagement: messages with at least one event of each kind, and their share of those sent",
  middleware: [requireScope("campaigns:read")] as const,
  request: { params: IdParam },
  responses: { 200: { description: "Stats", content: { "application/json": { schema: StatsSchema } } }, ...problems(401, 403, 404) },
});

const KINDS = ["delivered", "opened", "clicked", "bounced", "complained", "unsubscribed"] as const;
type Kind = (typeof KINDS)[number];

/** A share of `sent`, rounded to 4 decimals; 0 when nothing is sent. */
export function rate(count: number, sent: number): number {
  return sent > 0 ? Math.round((count / sent) * 10_000) / 10_000 : 0;
}

export function registerStats(api: OpenAPIHono<HonoEnv>) {
  api.openapi(route, async (c) => {
    const tenantId = c.var.principal.tenantId;
    const id = campaignIdOf(c.req.valid("param").id);
    // One round trip: the campaign (tenant-scoped, so another tenant's is no row) and its counts.
    // A message opened five times counts once; unsubscribes without a message id count by address.
    const result = await c.var.db.execute<Record<Kind, number | string> & { sent: number | string; unknown: number | string }>(sql`
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
    if (!row) throw new HeraldError("not_found", "no such campaign");
    const sent = Number(row.sent);
    const counts = Object.fromEntries(KINDS.map((k) => [k, Number(row[k])])) as Record<Kind, number>;
    const rates = Object.fromEntries(KINDS.map((k) => [k, rate(counts[k], sent)])) as Record<Kind, number>;
    return c.json({ campaign_id: id, sent, unknown: Number(row.unknown), ...counts, rates }, 200);
  });
}
