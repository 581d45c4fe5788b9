import { createMiddleware } from "hono/factory";
import { defineRoute, type Handler, type RequestBody, type ResponseBody } from "../../define";
import type { HonoEnv } from "../../../env";
import { HeraldError } from "../../../errors";
import { timingSafeEqual } from "../../../lib/encoding";
import { limitAuthAttempt } from "../../../middleware/rate-limit";
import { createTenant } from "../../../tenants/store";
import { CreatedTenantSchema, CreateTenantBody, type PLANS } from "./schema";

/**
 * Tenant provisioning is an operator action, guarded by ADMIN_SECRET rather than tenant
 * credentials. A wrong secret counts hard against the caller's address (the signup limits), so the
 * secret cannot be guessed at any useful rate.
 */
const requireAdmin = createMiddleware<HonoEnv>(async (c, next) => {
  const secret = c.var.config.adminSecret;
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

// No scope: the operator's ADMIN_SECRET is the credential, checked by requireAdmin and declared
// as the adminSecret scheme. 401/403 come from it, 429 from its attempt limit.
const base = defineRoute("post", "/", null, {
  summary: "Create a tenant and its first API key (operator only: Bearer ADMIN_SECRET)",
  request: { body: CreateTenantBody },
  responses: [[201, CreatedTenantSchema, "The tenant, its first key (shown once) and owner"], 401, 403, 429],
});

export const route = { ...base, security: [{ adminSecret: [] }], middleware: [requireAdmin] };

export const handler: Handler<typeof route> = async (c) => {
  const result = await createTenant(c.var.db, c.req.valid("json"));
  c.var.logger.info("tenant created", { tenant_id: result.tenant.id });
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
};

export type PostTenantBody = RequestBody<typeof route>;
export type PostTenantResponse = ResponseBody<typeof route>;
