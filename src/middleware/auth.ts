import { createMiddleware } from "hono/factory";
import { authenticate, bearerToken } from "../auth/authenticate";
import { grants, type Scope } from "../auth/scopes";
import type { HonoEnv } from "../env";
import { HeraldError } from "../errors";
import { enforceKeyRateLimit } from "./rate-limit";

/** Resolves the caller from `Authorization: Bearer <JWT | hk_ key>` into c.var.principal. */
export const requireAuth = createMiddleware<HonoEnv>(async (c, next) => {
  // Browsers cannot put headers on a WebSocket handshake, so upgrades may carry ?access_token=.
  const queryToken = c.req.header("upgrade")?.toLowerCase() === "websocket" ? c.req.query("access_token") : undefined;
  const token = queryToken && !c.req.header("authorization") ? queryToken : bearerToken(c.req.header("authorization"));
  const principal = await authenticate(token, { env: c.env, db: c.var.db, cache: c.var.cache, defer: c.var.defer });
  c.set("principal", principal);
  c.set("logger", c.var.logger.child({ tenant_id: principal.tenantId }));
  await enforceKeyRateLimit(c);
  await next();
});

export function requireScope(scope: Scope) {
  return createMiddleware<HonoEnv>(async (c, next) => {
    if (!grants(c.var.principal.scopes, scope)) {
      throw new HeraldError("forbidden", `this credential lacks the ${scope} scope`);
    }
    await next();
  });
}
