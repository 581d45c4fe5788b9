// Every operation of herald's OpenAPI document, as the route-security test sees it: how it is
// authenticated, the scopes it declares (newRouter() copies them from the route's requireScope
// middleware into its security), and its path parameters. The list is read from the document, so
// a route added tomorrow is checked tomorrow without anyone remembering to add it here.
import { API_INFO } from "../../src/app";
import { app } from "../helpers";

export type AuthKind = "bearer" | "admin" | "none";

export interface Operation {
  method: string;
  /** The OpenAPI path, e.g. /v1/lists/{id}/members/{contact_id}. */
  path: string;
  /** "METHOD path": how the tables in this folder and the test's allow-lists name an operation. */
  key: string;
  auth: AuthKind;
  /** The scopes the operation declares under bearerAuth (empty if it declares none). */
  scopes: string[];
  /** Path parameter names, in path order. */
  params: string[];
  /** Whether the operation takes a request body, and must be sent one. */
  body: "none" | "optional" | "required";
}

interface DocOperation {
  security?: Record<string, string[]>[];
  parameters?: { name: string; in: string }[];
  requestBody?: { required?: boolean };
}

type Doc = { paths: Record<string, Record<string, DocOperation>> };

export function openApiDocument(): Doc {
  return app.getOpenAPI31Document({ openapi: "3.1.0", info: API_INFO }) as unknown as Doc;
}

function authOf(op: DocOperation): AuthKind {
  const schemes = (op.security ?? []).flatMap((requirement) => Object.keys(requirement));
  if (schemes.includes("adminSecret")) return "admin";
  if (schemes.includes("bearerAuth")) return "bearer";
  return "none";
}

export function operations(doc: Doc = openApiDocument()): Operation[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => ({
      method: method.toUpperCase(),
      path,
      key: `${method.toUpperCase()} ${path}`,
      auth: authOf(op),
      scopes: [...new Set((op.security ?? []).flatMap((requirement) => requirement.bearerAuth ?? []))],
      params: [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!),
      body: op.requestBody ? (op.requestBody.required ? "required" : "optional") : "none",
    })),
  );
}

/**
 * The kind of resource a path parameter names: the path segment just before it, so
 * /v1/lists/{id}/members/{contact_id} names a "lists" and a "members", and
 * /v1/webhooks/{id}/deliveries/{delivery_id} a "webhooks" and a "deliveries".
 */
export function kindOf(path: string, param: string): string {
  const segments = path.split("/");
  const at = segments.indexOf(`{${param}}`);
  return at > 0 ? segments[at - 1]! : "";
}

/** The operation's path with each parameter filled in from `value(kind)`. */
export function fillPath(op: Operation, value: (kind: string) => string): string {
  return op.path.replace(/\{(\w+)\}/g, (_, param: string) => encodeURIComponent(value(kindOf(op.path, param))));
}

/** Where the test puts an id that names nothing, for the checks that never reach the handler. */
export const NOWHERE = "0190b1b2-7c1e-7a3b-9f00-0123456789ab";
