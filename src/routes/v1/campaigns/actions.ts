import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { launchCampaign } from "../../../campaigns/launch";
import { cancelCampaign, pauseCampaign, resumeCampaign, retryFailed, scheduleCampaign } from "../../../campaigns/transitions";
import type { HonoEnv } from "../../../env";
import { IdParam, problems } from "../../../lib/schemas";
import { requireScope } from "../../../middleware/auth";
import { CampaignSchema, ScheduleBody, toCampaignDto } from "./schema";
import { campaignIdOf, findCampaign } from "./store";

const AcceptedSchema = z
  .object({
    id: z.string().uuid(),
    state: z.string(),
    total: z.number().int().optional(),
    retrying: z.number().int().optional(),
    progress_url: z.string(),
  })
  .openapi("CampaignAccepted");

const base = (path: string, summary: string) => ({
  method: "post" as const,
  path: `/{id}/${path}`,
  tags: ["campaigns"],
  security: [{ bearerAuth: [] }],
  summary,
  middleware: [requireScope("campaigns:write")],
  request: { params: IdParam },
});

/** An action whose work continues in the background: 202 with where to watch it. */
function accepted(path: string, summary: string) {
  return createRoute({
    ...base(path, summary),
    responses: {
      202: { description: "Accepted: sending proceeds in the background", content: { "application/json": { schema: AcceptedSchema } } },
      ...problems(401, 403, 404, 409, 422),
    },
  });
}

/** An action that is done when it answers: 200 with the campaign. */
function changed(path: string, summary: string) {
  return createRoute({
    ...base(path, summary),
    responses: {
      200: { description: "The campaign", content: { "application/json": { schema: CampaignSchema } } },
      ...problems(401, 403, 404, 409),
    },
  });
}

const schedule = createRoute({
  method: "post",
  path: "/{id}/schedule",
  tags: ["campaigns"],
  security: [{ bearerAuth: [] }],
  summary: "Schedule a draft to launch at scheduled_at; the cron launches it when due",
  middleware: [requireScope("campaigns:write")] as const,
  request: { params: IdParam, body: { required: true, content: { "application/json": { schema: ScheduleBody } } } },
  responses: {
    200: { description: "The scheduled campaign", content: { "application/json": { schema: CampaignSchema } } },
    ...problems(400, 401, 403, 404, 409, 415, 422),
  },
});

const RetryQuery = z.object({
  include_unknown: z
    .enum(["true", "false"])
    .optional()
    .openapi({
      param: { name: "include_unknown", in: "query" },
      description:
        "Also retry recipients whose outcome is unknown (their batch may have reached the provider). MAY SEND TWICE: those recipients may get the mail a second time.",
    }),
});

const retryFailedRoute = createRoute({
  ...base(
    "retry-failed",
    "Send again to the failed recipients only; those whose outcome is unknown only with include_unknown=true (may send twice)",
  ),
  request: { params: IdParam, query: RetryQuery },
  responses: {
    202: { description: "Accepted: sending proceeds in the background", content: { "application/json": { schema: AcceptedSchema } } },
    ...problems(400, 401, 403, 404, 409, 422),
  },
});

export function registerActions(api: OpenAPIHono<HonoEnv>) {
  api.openapi(schedule, async (c) => {
    const id = campaignIdOf(c.req.valid("param").id);
    const { scheduled_at } = c.req.valid("json");
    await scheduleCampaign(c.var.db, c.var.principal.tenantId, id, new Date(scheduled_at));
    return c.json(toCampaignDto(await findCampaign(c.var.db, c.var.principal.tenantId, id)), 200);
  });

  api.openapi(accepted("launch", "Launch now: answers 202 at once, whatever the audience size"), async (c) => {
    const id = campaignIdOf(c.req.valid("param").id);
    const launched = await launchCampaign(c.var.db, c.env, c.var.principal.tenantId, id);
    c.var.logger.info("campaign launched", { campaign_id: id, total: launched.total });
    return c.json({ id, state: launched.state, total: launched.total, progress_url: `/v1/campaigns/${id}/progress` }, 202);
  });

  api.openapi(changed("pause", "Pause sending; batches in flight finish, nothing new is sent"), async (c) => {
    const id = campaignIdOf(c.req.valid("param").id);
    await pauseCampaign(c.var.db, c.env, c.var.principal.tenantId, id);
    return c.json(toCampaignDto(await findCampaign(c.var.db, c.var.principal.tenantId, id)), 200);
  });

  api.openapi(accepted("resume", "Resume a paused campaign where it stopped"), async (c) => {
    const id = campaignIdOf(c.req.valid("param").id);
    await resumeCampaign(c.var.db, c.env, c.var.principal.tenantId, id);
    return c.json({ id, state: "sending", progress_url: `/v1/campaigns/${id}/progress` }, 202);
  });

  api.openapi(changed("cancel", "Cancel; nothing more is sent"), async (c) => {
    const id = campaignIdOf(c.req.valid("param").id);
    await cancelCampaign(c.var.db, c.env, c.var.principal.tenantId, id);
    return c.json(toCampaignDto(await findCampaign(c.var.db, c.var.principal.tenantId, id)), 200);
  });

  api.openapi(retryFailedRoute, async (c) => {
    const id = campaignIdOf(c.req.valid("param").id);
    const includeUnknown = c.req.valid("query").include_unknown === "true";
    const retrying = await retryFailed(c.var.db, c.env, c.var.principal.tenantId, id, includeUnknown);
    return c.json({ id, state: "sending", retrying, progress_url: `/v1/campaigns/${id}/progress` }, 202);
  });
}
