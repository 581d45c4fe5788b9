import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { deleteCampaignRow } from "../../../campaigns/store/campaign-rows";
import type { HonoEnv } from "../../../env";
import { HeraldError } from "../../../errors";
import { IdParam, problems } from "../../../lib/schemas";
import { requireScope } from "../../../middleware/auth";
import { findCampaign } from "./store";

const remove = createRoute({
  method: "delete",
  path: "/{id}",
  tags: ["campaigns"],
  security: [{ bearerAuth: [] }],
  summary: "Delete a campaign that is not running (draft, cancelled, completed or failed)",
  middleware: [requireScope("campaigns:write")] as const,
  request: { params: IdParam },
  responses: { 204: { description: "Deleted" }, ...problems(401, 403, 404, 409) },
});

export function registerDelete(api: OpenAPIHono<HonoEnv>) {
  api.openapi(remove, async (c) => {
    const tenantId = c.var.principal.tenantId;
    const existing = await findCampaign(c.var.db, tenantId, c.req.valid("param").id);
    if (!(await deleteCampaignRow(c.var.db, tenantId, existing.id))) {
      throw new HeraldError("conflict", `a ${existing.state} campaign cannot be deleted; cancel it first`, {
        extensions: { state: existing.state },
      });
    }
    return c.body(null, 204);
  });
}
