import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { matchedRoutes } from "hono/route";
import { HeraldError } from "../errors";

/** The documented default request body limit; routes that take bulk data raise it for themselves. */
export const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024;

/** Route middleware made by limitBody() with a limit other than the default. */
const RAISED = new WeakSet<object>();

export function limitBody(maxSize = DEFAULT_BODY_LIMIT_BYTES): MiddlewareHandler {
  const limit = bodyLimit({
    maxSize,
    onError: () => {
      throw new HeraldError("payload_too_large", `the request body exceeds ${maxSize} bytes`);
    },
  });
  if (maxSize !== DEFAULT_BODY_LIMIT_BYTES) RAISED.add(limit);
  return limit;
}

/**
 * The default limit, for app-wide use. A route with its own limitBody() among its middleware gets
 * that limit instead: two limits in a row would let only the smaller through, and the route knows
 * what it takes. Routes are told apart by their middleware, so no path is named here or in app.ts.
 */
export function defaultBodyLimit(): MiddlewareHandler {
  const limit = limitBody();
  return (c, next) => (setsOwnLimit(c) ? next() : limit(c, next));
}

function setsOwnLimit(c: Context): boolean {
  return matchedRoutes(c).some((route) => RAISED.has(route.handler));
}
