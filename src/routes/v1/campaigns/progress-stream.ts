import { createRoute } from "@hono/zod-openapi";
import type { Handler } from "../../define";
import { findCampaign } from "../../../campaigns/store/campaign-reads";
import { HeraldError } from "../../../errors";
import { IdParam, problems } from "../../../lib/schemas";
import { requireScope } from "../../../middleware/auth";
import { progressStub } from "../../../services/durable-objects";

/** On createRoute, not defineRoute: a WebSocket upgrade (101), not a JSON operation, and it has a description. */
export const route = createRoute({
  method: "get",
  path: "/{id}/progress/stream",
  security: [{ bearerAuth: [] }],
  summary: "A WebSocket pushing the progress snapshot on every change and at least once a second while sending",
  description:
    "Browsers cannot set headers on a WebSocket, so this route (and no other) also takes the token as ?access_token=. " +
    "Only a JWT is accepted there (a short-lived one from POST /v1/auth/token): an API key in a URL ends up in logs and proxies, so hk_ keys are refused with 401.",
  middleware: [requireScope("campaigns:read")] as const,
  request: { params: IdParam },
  responses: { 101: { description: "Switching protocols" }, ...problems(401, 403, 404, 426) },
});

export const handler: Handler<typeof route> = async (c) => {
  if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
    throw new HeraldError("bad_request", "this endpoint speaks WebSocket: send Upgrade: websocket");
  }
  const row = await findCampaign(c.var.db, c.var.principal.tenantId, c.req.valid("param").id);
  const res = await progressStub(c.env, row.id).fetch(new Request("https://progress/stream", { headers: { upgrade: "websocket" } }));
  // A fresh Response, so the middleware after us can still add its headers.
  return new Response(null, { status: res.status, webSocket: res.webSocket }) as never;
};
