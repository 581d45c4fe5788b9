// Which scope each scope-checking route middleware demands, so the router can publish it in the
// route's OpenAPI security (routes/router.ts) from the middleware that enforces it.

/** The scope each scope-checking route middleware demands (see requireScope in middleware/auth.ts). */
const DECLARED_SCOPES = new WeakMap<object, string>();

/** Marks `middleware` as demanding `scope`, so a route using it publishes the scope in its OpenAPI security. */
export function declareScope<T extends object>(middleware: T, scope: string): T {
  DECLARED_SCOPES.set(middleware, scope);
  return middleware;
}

/** The scopes a route's middleware demand, in order, once each. */
export function declaredScopes(middleware: unknown): string[] {
  const list = Array.isArray(middleware) ? middleware : middleware === undefined ? [] : [middleware];
  const scopes = list.flatMap((m) => (typeof m === "function" && DECLARED_SCOPES.has(m) ? [DECLARED_SCOPES.get(m)!] : []));
  return [...new Set(scopes)];
}
