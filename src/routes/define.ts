import { createRoute, type OpenAPIHono, type RouteConfig, type RouteHandler, type z } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import type { HonoEnv } from "../env";
import type { Scope } from "../auth/scopes";
import { IdParam, problems } from "../lib/schemas";
import { requireScope } from "../middleware/auth";

type Method = "get" | "post" | "put" | "patch" | "delete";
type Json<T> = { content: { "application/json": { schema: T } } };
type Problems = ReturnType<typeof problems>;

/** What a JSON API route declares besides its method, path and scope; the rest follows from it. */
export interface RouteSpec<Params, Query, Body, S extends number, Ok> {
  summary: string;
  /** Longer prose for the OpenAPI operation, where the summary cannot say enough. */
  description?: string;
  /** Middleware the route runs after the scope check (an ETag, the services of a route outside /v1). */
  middleware?: MiddlewareHandler<HonoEnv>[];
  /** What the route validates; with `bodyOptional` the caller may leave the body out (validated as {} then). */
  request?: { params?: Params; query?: Query; body?: Body; bodyOptional?: true };
  /**
   * The success answer ([status, schema, description], or [status, description] when it has no
   * body), then the error statuses the handler itself raises (404, 409...). Those that follow from
   * the declaration are added: 401/403 for a scope, 422 for validated input, 400/413/415 for a body.
   */
  responses: [[S, Ok, string] | [S, string], ...number[]];
}

type Request = NonNullable<RouteConfig["request"]>;
type ParamsSchema = NonNullable<Request["params"]>;
type QuerySchema = NonNullable<Request["query"]>;
/** Only the parts a route declares, so @hono/zod-openapi types c.req.valid() for exactly those. */
type Nothing = Record<never, never>;
type RequestOf<Params, Query, B> = (Params extends ParamsSchema ? { params: Params } : Nothing) &
  (Query extends QuerySchema ? { query: Query } : Nothing) &
  (B extends z.ZodType ? { body: { required: boolean } & Json<B> } : Nothing);
type Ok<S extends number, O> = { [K in S]: { description: string } & (O extends z.ZodType ? Json<O> : object) };

/** The route config @hono/zod-openapi types handlers from, built from a RouteSpec. */
export type DefinedRoute<M extends Method, P extends string, Params, Query, B, S extends number, O> = {
  method: M;
  path: P;
  summary: string;
  request: RequestOf<Params, Query, B>;
  // An answer without a body (204) must leave the handler free to return a plain Response, as
  // @hono/zod-openapi allows when some response has no content; the union keeps that so.
  responses: (O extends z.ZodType ? Problems : Record<number, Problems[number] | { description: string }>) & Ok<S, O>;
} & Pick<RouteConfig, "security" | "middleware">;

/**
 * One JSON API operation: its OpenAPI description, scope check and problem responses from one
 * declaration, so the document and the enforcement cannot disagree and no route repeats them.
 * `scope` is the scope the caller must hold (null: the route checks its own credential); the tag
 * comes from the resource's router (see mountRoutes).
 */
export function defineRoute<
  const M extends Method,
  const P extends string,
  S extends number,
  Params extends ParamsSchema | undefined = undefined,
  Query extends QuerySchema | undefined = undefined,
  B extends z.ZodType | undefined = undefined,
  O extends z.ZodType | undefined = undefined,
>(method: M, path: P, scope: Scope | null, spec: RouteSpec<Params, Query, B, S, O>) {
  const [[status, schemaOrDescription, description], ...errors] = spec.responses;
  const { params, query, body, bodyOptional } = spec.request ?? {};
  const okResponse =
    typeof schemaOrDescription === "string"
      ? { description: schemaOrDescription }
      : { description: description ?? "", content: { "application/json": { schema: schemaOrDescription } } };
  const statuses = [
    ...(body ? [400] : []),
    ...(scope ? [401, 403] : []),
    ...errors,
    ...(body ? [413, 415] : []),
    ...(params || query || body ? [422] : []),
  ];
  const request = {
    ...(params && { params }),
    ...(query && { query }),
    ...(body && { body: { required: !bodyOptional, content: { "application/json": { schema: body } } } }),
  };
  const config = {
    method,
    path,
    summary: spec.summary,
    ...(spec.description && { description: spec.description }),
    ...(scope && { security: [{ bearerAuth: [] }] }),
    ...((scope || spec.middleware) && { middleware: [...(scope ? [requireScope(scope)] : []), ...(spec.middleware ?? [])] }),
    request,
    responses: { [status]: okResponse, ...problems(...[...new Set(statuses)].sort((a, b) => a - b)) },
  };
  // createRoute only adds getRoutingPath; the cast carries the declared types the handler is checked against.
  return createRoute(config as Parameters<typeof createRoute>[0]) as unknown as DefinedRoute<M, P, Params, Query, B, S, O> & {
    getRoutingPath(): string;
  };
}

/** A route module: its definition and its handler, checked against each other where they are declared. */
export interface RouteModule {
  route: object;
  handler: (...args: never[]) => unknown;
}

/** The handler type for a route made by defineRoute. */
export type Handler<R extends RouteConfig> = RouteHandler<R, HonoEnv>;

/** The JSON body a route accepts and the body of its success answer, for clients and tests. */
export type RequestBody<R> = R extends { request: { body: { content: { "application/json": { schema: infer T extends z.ZodType } } } } }
  ? z.input<T>
  : never;
export type ResponseBody<R> = R extends { responses: infer Rs }
  ? { [K in keyof Rs]: K extends 200 | 201 | 202 ? (Rs[K] extends Json<infer T extends z.ZodType> ? z.output<T> : never) : never }[keyof Rs]
  : never;

/**
 * Registers a resource's routes on its router under one OpenAPI tag. Each module's handler was
 * type-checked against its route in its own file (Handler<typeof route>), so this may take them loosely.
 */
export function mountRoutes(api: OpenAPIHono<HonoEnv>, tag: string, ...modules: RouteModule[]) {
  for (const { route, handler } of modules) {
    const config = route as RouteConfig;
    api.openapi({ ...config, tags: config.tags ?? [tag] }, handler as unknown as Parameters<typeof api.openapi>[1]);
  }
  return api;
}

/**
 * DELETE /{id} answering 204: the shape every resource deleted outright shares. `remove` deletes
 * the tenant's row (404 when there is none) and does what goes with it (a cache entry, a log line).
 */
export function deleteByIdRoute(scope: Scope, summary: string, remove: (c: Context<HonoEnv>, id: string) => Promise<void>) {
  const route = defineRoute("delete", "/{id}", scope, {
    summary,
    request: { params: IdParam },
    responses: [[204, "Deleted"], 404],
  });
  const handler: Handler<typeof route> = async (c) => {
    await remove(c, c.req.valid("param").id);
    return c.body(null, 204);
  };
  return { route, handler };
}
