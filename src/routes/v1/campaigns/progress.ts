import { z } from "@hono/zod-openapi";
import { defineRoute, type Handler, type ResponseBody } from "../../define";
import { findCampaign } from "../../../campaigns/store/campaign-reads";
import { IdParam } from "../../../lib/schemas";
import { progressStub } from "../../../services/durable-objects";

const ProgressSchema = z
  .object({
    campaign_id: z.string().nullable(),
    state: z.string(),
    total: z.number().int(),
    queued: z.number().int(),
    sent: z.number().int(),
    failed: z.number().int(),
    skipped: z.number().int(),
    rate_per_second: z.number(),
    eta_seconds: z.number().int().nullable(),
    started_at: z.string().nullable(),
    updated_at: z.string().nullable(),
  })
  .openapi("CampaignProgress");

export const route = defineRoute("get", "/{id}/progress", "campaigns:read", {
  summary: "Live counters, rate and ETA",
  request: { params: IdParam },
  responses: [[200, ProgressSchema, "Progress"], 404],
});

export const handler: Handler<typeof route> = async (c) => {
  const row = await findCampaign(c.var.db, c.var.principal.tenantId, c.req.valid("param").id);
  if (!row.startedAt) {
    return c.json(
      {
        campaign_id: row.id,
        state: row.state,
        total: row.total,
        queued: 0,
        sent: 0,
        failed: 0,
        skipped: 0,
        rate_per_second: 0,
        eta_seconds: null,
        started_at: null,
        updated_at: null,
      },
      200,
    );
  }
  const snap = await progressStub(c.env, row.id).snapshot();
  c.header("cache-control", "no-store");
  return c.json({ ...snap, campaign_id: row.id, state: snap.state === "idle" ? row.state : snap.state }, 200);
};

export type GetCampaignProgressResponse = ResponseBody<typeof route>;
