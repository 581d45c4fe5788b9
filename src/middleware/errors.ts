import type { Context, ErrorHandler, MiddlewareHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { matchedRoutes } from "hono/route";
import { JwksUnavailable } from "../auth/jwks";
import { ConfigError } from "../config";
import type { HonoEnv } from "../env";
import { HeraldError, problemResponse } from "../errors";

function requestIdOf(c: Context<HonoEnv>): string {
  return c.get("requestId") ?? crypto.randomUUID();
}

type Decorate = (err: HeraldError) => HeraldError;
const DECORATORS = new WeakMap<object, Decorate>();

/**
 * Middleware for a router whose errors need more than the problem+json members (the /v1/emails
 * routes add Resend's). It does nothing itself: onError finds it among the request's matched
 * routes, so the error handler names no path, and errors thrown before the router runs (401, 413,
 * 429) are decorated too.
 */
export function decorateProblems(decorate: Decorate): MiddlewareHandler<HonoEnv> {
  const marker: MiddlewareHandler<HonoEnv> = (_c, next) => next();
  DECORATORS.set(marker, decorate);
  return marker;
}

function decoratorOf(c: Context<HonoEnv>): Decorate | undefined {
  let routes: ReturnType<typeof matchedRoutes>;
  try {
    routes = matchedRoutes(c);
  } catch {
    return undefined; // thrown before the request was routed
  }
  for (const route of routes) {
    const decorate = DECORATORS.get(route.handler);
    if (decorate) return decorate;
  }
  return undefined;
}

/** Maps whatever was thrown to a problem+json response; only HeraldError details reach the caller. */
export const onError: ErrorHandler<HonoEnv> = (err, c) => {
  const herald = toHeraldError(err, c);
  const decorate = decoratorOf(c);
  return problemResponse(decorate ? decorate(herald) : herald, requestIdOf(c), c.req.path);
};

export const notFound: NotFoundHandler<HonoEnv> = (c) =>
  problemResponse(new HeraldError("not_found", `no route for ${c.req.method} ${c.req.path}`), requestIdOf(c), c.req.path);

function toHeraldError(err: unknown, c: Context<HonoEnv>): HeraldError {
  const logger = c.get("logger");
  if (err instanceof HeraldError) {
    if (err.status >= 500) logger?.error("request failed", { code: err.code, detail: err.message });
    return err;
  }
  if (err instanceof HTTPException) {
    const mapped = c.get("bodyRefusal") ?? fromHttpException(err);
    if (mapped) return mapped;
  }
  if (err instanceof ConfigError) {
    logger?.error("configuration error", { setting: err.setting });
    return new HeraldError("service_unavailable", "herald is misconfigured; the operator has been told in the logs");
  }
  if (err instanceof JwksUnavailable) {
    logger?.error("JWKS unavailable");
    return new HeraldError("service_unavailable", "the identity provider's key set could not be fetched", {
      headers: { "retry-after": "5" },
    });
  }
  logger?.error("unhandled error", { err });
  return new HeraldError("internal", "an unexpected error occurred; quote the request id when reporting it");
}

function fromHttpException(err: HTTPException): HeraldError | undefined {
  switch (err.status) {
    case 400:
      return err.message.startsWith("Malformed JSON")
        ? new HeraldError("malformed_json", "the request body is not valid JSON")
        : new HeraldError("bad_request", "the request could not be read");
    case 401:
      return new HeraldError("unauthorized", "authentication required");
    case 413:
      return new HeraldError("payload_too_large", "the request body is too large");
    case 415:
      return new HeraldError("unsupported_media_type", "send the request body as application/json");
    default:
      return undefined;
  }
}
