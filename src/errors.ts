import type { ContentfulStatusCode } from "hono/utils/http-status";

/** The closed set of error codes herald answers with; each has exactly one HTTP status. */
export const ERROR_STATUS = {
  bad_request: 400,
  malformed_json: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  validation_failed: 422,
  rate_limited: 429,
  internal: 500,
  not_implemented: 501,
  service_unavailable: 503,
} as const satisfies Record<string, ContentfulStatusCode>;

export type ErrorCode = keyof typeof ERROR_STATUS;

const TITLES: Record<ErrorCode, string> = {
  bad_request: "Bad request",
  malformed_json: "Malformed JSON",
  unauthorized: "Unauthorized",
  forbidden: "Forbidden",
  not_found: "Not found",
  method_not_allowed: "Method not allowed",
  conflict: "Conflict",
  payload_too_large: "Payload too large",
  unsupported_media_type: "Unsupported media type",
  validation_failed: "Validation failed",
  rate_limited: "Too many requests",
  internal: "Internal server error",
  not_implemented: "Not implemented",
  service_unavailable: "Service unavailable",
};

export interface FieldError {
  /** Dotted path of the offending field, prefixed by where it came from: body.name, query.limit, path.id. */
  field: string;
  message: string;
}

export interface ErrorOptions {
  errors?: FieldError[];
  headers?: Record<string, string>;
  /** Extra RFC 9457 extension members. Never put secrets or internals here. */
  extensions?: Record<string, unknown>;
}

export class HeraldError extends Error {
  readonly code: ErrorCode;
  readonly status: ContentfulStatusCode;
  readonly options: ErrorOptions;

  constructor(code: ErrorCode, detail: string, options: ErrorOptions = {}) {
    super(detail);
    this.name = "HeraldError";
    this.code = code;
    this.status = ERROR_STATUS[code];
    this.options = options;
  }
}

export const PROBLEM_CONTENT_TYPE = "application/problem+json";

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  instance?: string;
  request_id: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

export function problemType(code: ErrorCode): string {
  return `urn:herald:problem:${code}`;
}

export function problemBody(err: HeraldError, requestId: string, instance?: string): ProblemBody {
  const body: ProblemBody = {
    ...err.options.extensions,
    type: problemType(err.code),
    title: TITLES[err.code],
    status: err.status,
    detail: err.message,
    code: err.code,
    request_id: requestId,
  };
  if (instance) body.instance = instance;
  if (err.options.errors?.length) body.errors = err.options.errors;
  return body;
}

export function problemResponse(err: HeraldError, requestId: string, instance?: string): Response {
  const headers = new Headers(err.options.headers);
  headers.set("content-type", PROBLEM_CONTENT_TYPE);
  headers.set("x-request-id", requestId);
  return new Response(JSON.stringify(problemBody(err, requestId, instance)), { status: err.status, headers });
}

/** Problem titles and statuses, for the docs page and the OpenAPI document. */
export function problemCatalog(): { code: ErrorCode; status: number; title: string; type: string }[] {
  return (Object.keys(ERROR_STATUS) as ErrorCode[]).map((code) => ({
    code,
    status: ERROR_STATUS[code],
    title: TITLES[code],
    type: problemType(code),
  }));
}
