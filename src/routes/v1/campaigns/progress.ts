import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { progressStub } from "../../../services/durable-objects";
import type { HonoEnv } from "../../../env";
import { HeraldError } from "../../../errors";
import { IdParam, problems } from "../../../lib/schemas";
import { requireScope } from "../../../middleware/auth";
import { findCampaign } from "./store";

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

const progress = createRoute({
  method: "get",
  path: "/{id}/progress",
  tags: ["campaigns"],
  security: [{ bearerAuth: [] }],
  summary: "Live counters, rate and ETA",
  middleware: [requireScope("campaigns:read")] as const,
  request: { params: IdParam },
  responses: { 200: { description: "Progress", content: { "application/json": { schema: ProgressSchema } } }, ...problems(401, 403, 404) },
});

const stream = createRoute({
  method: "get",
  path: "/{id}/progress/stream",
  tags: ["campaigns"],
  security: [{ bearerAuth: [] }],
  summary: "A WebSocket pushing the progress snapshot on every change and at least once a second while sending",
  description:
    "Browsers cannot set headers on a WebSocket, so this route (and no other) also takes the token as ?access_token=. " +
    "Only a JWT is accepted there (a short-lived one from POST /v1/auth/token): an API key in a URL ends up in logs and proxies, so hk_ keys are refused with 401.",
  middleware: [requireScope("campaigns:read")] as const,
  request: { params: IdParam },
  responses: { 101: { description: "Switching protocols" }, ...problems(401, 403, 404, 426) },
});

export function registerProgress(api: OpenAPIHono<HonoEnv>) {
  api.openapi(progress, async (c) => {
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
  });

  api.openapi(stream, async (c) => {
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
      throw new HeraldError("bad_request", "this endpoint speaks WebSocket: send Upgrade: websocket");
    }
    const row = await findCampaign(c.var.db, c.var.principal.tenantId, c.req.valid("param").id);
    const res = await progressStub(c.env, row.id).fetch(new Request("https://progress/stream", { headers: { upgrade: "websocket" } }));
    // A fresh Response, so the middleware after us can still add its headers.
    return new Response(null, { status: res.status, webSocket: res.webSocket }) as never;
  });
}
