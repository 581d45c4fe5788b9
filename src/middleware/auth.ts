import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { looksLikeApiKey } from "../auth/api-keys";
import { authenticate, bearerToken, unauthorized } from "../auth/authenticate";
import { grants, type Scope } from "../auth/scopes";
import type { HonoEnv } from "../env";
import { HeraldError } from "../errors";
import { declareScope } from "./scope-tags";
import { enforceKeyRateLimit } from "./rate-limit";

/**
 * The one route that takes its token as ?access_token= (routes/v1/campaigns/progress.ts): browsers
 * cannot put headers on a WebSocket handshake. Anywhere else a token in the URL is refused, since
 * URLs end up in access logs, proxies and browser history.
 */
const QUERY_TOKEN_PATH = /^\/v1\/campaigns\/[^/]+\/progress\/stream\/?$/;

function credential(c: Context<HonoEnv>): string {
  const header = c.req.header("authorization");
  const query = c.req.query("access_token");
  if (query !== undefined && looksLikeApiKey(query)) {
    // A long-lived key in a URL is leaked already; say so whatever else the request carries.
    throw unauthorized(
      "API keys are not accepted in the URL (it ends up in logs and proxies): exchange the key at POST /v1/auth/token and pass that short-lived JWT as access_token",
    );
  }
  if (header !== undefined || query === undefined) return bearerToken(header);
  const upgrade = c.req.header("upgrade")?.toLowerCase() === "websocket";
  if (!upgrade || !QUERY_TOKEN_PATH.test(c.req.path)) {
    throw unauthorized("access_token is accepted only on the progress stream WebSocket; send 'Authorization: Bearer <token>'");
  }
  return query;
}

/** Resolves the caller from `Authorization: Bearer <JWT | hk_ key>` into c.var.principal. */
export const requireAuth = createMiddleware<HonoEnv>(async (c, next) => {
  const principal = await authenticate(credential(c), { env: c.env, db: c.var.db, cache: c.var.cache, defer: c.var.defer });
  c.set("principal", principal);
  c.set("logger", c.var.logger.child({ tenant_id: principal.tenantId }));
  await enforceKeyRateLimit(c);
  await next();
});

/**
 * Refuses (403) a principal without `scope`. Put it in the route's createRoute({ middleware }):
 * newRouter() then lists the scope in the operation's OpenAPI security ({ bearerAuth: [scope] }),
 * and test/route-security.test.ts checks every such route refuses a credential without it.
 */
export function requireScope(scope: Scope) {
  const middleware = createMiddleware<HonoEnv>(async (c, next) => {
    if (!grants(c.var.principal.scopes, scope)) {
      throw new HeraldError("forbidden", `this credential lacks the ${scope} scope`);
    }
    await next();
  });
  return declareScope(middleware, scope);
}
