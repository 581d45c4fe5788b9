import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { createMiddleware } from "hono/factory";
import { tenants, users } from "../../../db/schema";
import type { HonoEnv } from "../../../env";
import { HeraldError } from "../../../errors";
import { timingSafeEqual } from "../../../lib/encoding";
import { uuidv7 } from "../../../lib/ids";
import { problems } from "../../../lib/schemas";
import { limitAuthAttempt } from "../../../middleware/rate-limit";
import { insertApiKey } from "../../../api-keys/store";
import { CreatedTenantSchema, CreateTenantBody, type PLANS } from "./schema";

/**
 * Tenant provisioning is an operator action, guarded by ADMIN_SECRET rather than tenant
 * credentials. A wrong secret counts hard against the caller's address (the signup limits), so the
 * secret cannot be guessed at any useful rate.
 */
const requireAdmin = createMiddleware<HonoEnv>(async (c, next) => {
  const secret = c.env.ADMIN_SECRET?.trim();
  if (!secret) throw new HeraldError("forbidden", "tenant provisioning is disabled: ADMIN_SECRET is not set");
  await limitAuthAttempt(c, "signup", async () => {
    const match = /^Bearer[ ]+(\S+)$/i.exec(c.req.header("authorization") ?? "");
    if (!match || !timingSafeEqual(match[1]!, secret)) {
      throw new HeraldError("unauthorized", "tenant provisioning needs 'Authorization: Bearer <ADMIN_SECRET>'", {
        headers: { "www-authenticate": `Bearer realm="herald-admin"` },
      });
    }
  });
  await next();
});

const route = createRoute({
  method: "post",
  path: "/",
  tags: ["tenants"],
  summary: "Create a tenant and its first API key (operator only: Bearer ADMIN_SECRET)",
  security: [{ adminSecret: [] }],
  middleware: [requireAdmin] as const,
  request: { body: { required: true, content: { "application/json": { schema: CreateTenantBody } } } },
  responses: {
    201: {
      description: "The tenant, its first key (shown once) and owner",
      content: { "application/json": { schema: CreatedTenantSchema } },
    },
    ...problems(400, 401, 403, 413, 415, 422, 429),
  },
});

export function registerPost(api: OpenAPIHono<HonoEnv>) {
  api.openapi(route, async (c) => {
    const body = c.req.valid("json");
    const tenantId = uuidv7();
    // One transaction: a tenant never exists without its first key.
    const result = await c.var.db.transaction(async (tx) => {
      const [tenant] = await tx.insert(tenants).values({ id: tenantId, name: body.name, plan: body.plan }).returning();
      const owner = body.owner
        ? (
            await tx
              .insert(users)
              .values({ id: uuidv7(), tenantId, email: body.owner.email, name: body.owner.name, role: "owner" })
              .returning()
          )[0]!
        : null;
      const apiKey = await insertApiKey(tx, { tenantId, name: "default", scopes: ["*"], createdBy: "admin" });
      return { tenant: tenant!, owner, apiKey };
    });
    c.var.logger.info("tenant created", { tenant_id: tenantId });
    c.header("cache-control", "no-store");
    return c.json(
      {
        tenant: {
          id: result.tenant.id,
          name: result.tenant.name,
          plan: result.tenant.plan as (typeof PLANS)[number],
          created_at: result.tenant.createdAt.toISOString(),
        },
        api_key: result.apiKey,
        owner: result.owner
          ? {
              id: result.owner.id,
              email: result.owner.email,
              name: result.owner.name,
              role: "owner" as const,
              created_at: result.owner.createdAt.toISOString(),
            }
          : null,
      },
      201,
    );
  });
}
