import { z } from "@hono/zod-openapi";
import { HeraldError, problemCatalog } from "../errors";
import { fromBase64url, base64url, fromUtf8, utf8 } from "./encoding";
import { isUuid } from "./ids";

export const ProblemSchema = z
  .object({
    type: z.string().openapi({ example: "urn:herald:problem:validation_failed" }),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.enum(problemCatalog().map((p) => p.code) as [string, ...string[]]),
    instance: z.string().optional(),
    request_id: z.string(),
    errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  })
  .openapi("Problem");

/** Problem responses for the statuses a route can answer with, in OpenAPI form. */
export function problems(...statuses: number[]) {
  const out: Record<number, { description: string; content: { "application/problem+json": { schema: typeof ProblemSchema } } }> = {};
  for (const status of statuses) {
    const titles = problemCatalog()
      .filter((p) => p.status === status)
      .map((p) => p.title)
      .join(" / ");
    out[status] = { description: titles, content: { "application/problem+json": { schema: ProblemSchema } } };
  }
  return out;
}

export const IdParam = z.object({
  id: z.string().openapi({ param: { name: "id", in: "path" }, example: "0190b1b2-7c1e-7a3b-9f00-0123456789ab" }),
});

const ADDRESS = /^(?:(?:"[^"\r\n\0]{0,200}"|[^<>\r\n\0,;:"@]{0,200})\s*<[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+>|[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+)$/;
/**
 * "user@example.com" or "Display Name <user@example.com>"; never CR/LF (header injection). A display
 * name with , ; : " or @ must be quoted, so no parser can read extra recipients out of it.
 */
export const Address = z.string().trim().max(320).regex(ADDRESS, "must be an email address, optionally as 'Name <address>'");

export const Timestamp = z.string().openapi({ format: "date-time", example: "2026-11-22T10:00:00.000Z" });

export const PageQuery = z.object({
  cursor: z
    .string()
    .max(200)
    .optional()
    .openapi({ param: { name: "cursor", in: "query" }, description: "next_cursor from the previous page" }),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(100)
    .default(20)
    .openapi({ param: { name: "limit", in: "query" }, example: 20 }),
});

export function pageOf<T extends z.ZodType>(item: T, name: string) {
  return z.object({ data: z.array(item), next_cursor: z.string().nullable() }).openapi(name);
}

/** Cursors are opaque to callers: base64url JSON naming the last id seen. */
export function encodeCursor(lastId: string): string {
  return base64url(utf8(JSON.stringify({ id: lastId })));
}

export function decodeCursor(cursor: string | undefined): string | undefined | null {
  if (cursor === undefined || cursor === "") return undefined;
  const bytes = fromBase64url(cursor);
  if (!bytes) return null;
  try {
    const value = JSON.parse(fromUtf8(bytes)) as { id?: unknown };
    return isUuid(value.id) ? value.id : null;
  } catch {
    return null;
  }
}

/** The cursor's id, or undefined for the first page; an unreadable cursor is the caller's error. */
export function cursorId(cursor: string | undefined): string | undefined {
  const id = decodeCursor(cursor);
  if (id === null) {
    throw new HeraldError("validation_failed", "invalid query.cursor", {
      errors: [{ field: "query.cursor", message: "not a cursor this API issued" }],
    });
  }
  return id;
}

/**
 * A path id as a row id. One that is not even a UUID is the same 404 as another tenant's row, before
 * any query: a 422 would tell a prober which ids are well formed, and Postgres would refuse the cast.
 */
export function uuidOr404(id: string, notFound: () => HeraldError): string {
  if (!isUuid(id)) throw notFound();
  return id.toLowerCase();
}
