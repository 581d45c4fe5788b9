import { z } from "@hono/zod-openapi";
import { SUPPRESSION_REASONS, type suppressions } from "../../../db/schema";
import { HeraldError } from "../../../errors";
import { base64url, fromBase64url, fromUtf8, utf8 } from "../../../lib/encoding";
import { PageQuery, Timestamp } from "../../../lib/schemas";

export const SuppressionReason = z.enum(SUPPRESSION_REASONS).openapi({
  description: "bounce, complaint and unsubscribe also mark the tenant's active contact with that address; manual only suppresses",
});

const SuppressionEmail = z
  .string()
  .trim()
  .toLowerCase()
  .max(320)
  .pipe(z.email("not a valid email address"))
  .openapi({ description: "Trimmed and lower-cased", example: "ada@example.com" });

export const SuppressionSchema = z
  .object({
    email: z.string(),
    reason: SuppressionReason,
    note: z.string().nullable(),
    created_at: Timestamp,
  })
  .openapi("Suppression");

export const CreateSuppressionBody = z
  .object({
    email: SuppressionEmail,
    reason: SuppressionReason.default("manual"),
    note: z.string().trim().max(1000).nullable().optional(),
  })
  .strict()
  .openapi("CreateSuppression");

/** An address as suppressions store it; not checked as an address, since entries from provider events may not pass a strict check. */
const StoredEmail = z.string().trim().toLowerCase().min(1).max(320);

export const EmailParam = z.object({
  email: StoredEmail.openapi({ param: { name: "email", in: "path" }, description: "The address, URL-encoded", example: "ada@example.com" }),
});

export const SUPPRESSION_ORDERS = ["created_at", "email"] as const;
export type SuppressionOrder = (typeof SUPPRESSION_ORDERS)[number];

export const SuppressionListQuery = PageQuery.extend({
  // Longer than other cursors: an email-ordered cursor carries an address.
  cursor: z
    .string()
    .max(1000)
    .optional()
    .openapi({ param: { name: "cursor", in: "query" }, description: "next_cursor from the previous page (of the same order)" }),
  order: z
    .enum(SUPPRESSION_ORDERS)
    .default("created_at")
    .openapi({ param: { name: "order", in: "query" }, description: "created_at: newest first (the default); email: alphabetical" }),
  reason: SuppressionReason.optional().openapi({ param: { name: "reason", in: "query" } }),
  email: StoredEmail.optional().openapi({
    param: { name: "email", in: "query" },
    description: "Only addresses starting with this text",
    example: "ada@",
  }),
});

type SuppressionRow = typeof suppressions.$inferSelect;

export function toSuppressionDto(row: SuppressionRow) {
  return { email: row.email, reason: row.reason, note: row.note, created_at: row.createdAt.toISOString() };
}

/** Where a page ended: the last email, and for created_at order its exact (microsecond) timestamp. */
export interface SuppressionCursor {
  order: SuppressionOrder;
  email: string;
  at?: string;
}

export function encodeSuppressionCursor(cursor: SuppressionCursor): string {
  return base64url(utf8(JSON.stringify({ o: cursor.order, e: cursor.email, ...(cursor.at ? { t: cursor.at } : {}) })));
}

const ISO_MICROS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;

/** The cursor for this order, undefined for the first page; anything else is the caller's error. */
export function decodeSuppressionCursor(text: string | undefined, order: SuppressionOrder): SuppressionCursor | undefined {
  if (text === undefined || text === "") return undefined;
  const bad = () =>
    new HeraldError("validation_failed", "invalid query.cursor", {
      errors: [{ field: "query.cursor", message: "not a cursor this API issued for this order" }],
    });
  const bytes = fromBase64url(text);
  if (!bytes) throw bad();
  let value: { o?: unknown; e?: unknown; t?: unknown };
  try {
    value = JSON.parse(fromUtf8(bytes)) as typeof value;
  } catch {
    throw bad();
  }
  if (typeof value !== "object" || value === null || value.o !== order || typeof value.e !== "string" || value.e.length > 320) throw bad();
  if (order === "email") return { order, email: value.e };
  if (
    typeof value.t !== "string" ||
    !ISO_MICROS.test(value.t) ||
    Number.isNaN(Date.parse(value.t)) ||
    new Date(value.t).toISOString().slice(0, 10) !== value.t.slice(0, 10)
  )
    throw bad();
  return { order, email: value.e, at: value.t };
}
