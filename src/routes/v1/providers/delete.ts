import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { and, arrayContains, eq, inArray } from "drizzle-orm";
import { campaigns, providers } from "../../../db/schema";
import type { HonoEnv } from "../../../env";
import { providerCacheKey } from "../../../providers/registry";
import { HeraldError } from "../../../errors";
import { IdParam, problems } from "../../../lib/schemas";
import { requireScope } from "../../../middleware/auth";
import { findProvider } from "./get";

const route = createRoute({
  method: "delete",
  path: "/{id}",
  tags: ["providers"],
  summary: "Delete a provider. One that a live campaign sends through is a 409: disable it instead.",
  security: [{ bearerAuth: [] }],
  middleware: [requireScope("providers:write")] as const,
  request: { params: IdParam },
  responses: {
    204: { description: "Deleted" },
    ...problems(401, 403, 404, 409),
  },
});

export function registerDelete(api: OpenAPIHono<HonoEnv>) {
  api.openapi(route, async (c) => {
    const { tenantId } = c.var.principal;
    const existing = await findProvider(c.var.db, tenantId, c.req.valid("param").id);
    const [live] = await c.var.db
      .select({ id: campaigns.id })
      .from(campaigns)
      .where(
        and(
          eq(campaigns.tenantId, tenantId),
          inArray(campaigns.state, ["scheduled", "sending", "paused"]),
          arrayContains(campaigns.providerIds, [existing.id]),
        ),
      )
      .limit(1);
    if (live) {
      throw new HeraldError("conflict", `campaign ${live.id} still sends through this provider; disable the provider instead`);
    }
    await c.var.db.delete(providers).where(and(eq(providers.tenantId, tenantId), eq(providers.id, existing.id)));
    await c.var.cache.delete(providerCacheKey(c.var.principal.tenantId, existing.id));
    c.var.logger.info("provider deleted", { provider_id: existing.id });
    return c.body(null, 204);
  });
}
