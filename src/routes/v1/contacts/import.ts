import { createRoute, z } from "@hono/zod-openapi";
import type { Handler, RequestBody, ResponseBody } from "../../define";
import { HeraldError } from "../../../errors";
import { problems } from "../../../lib/schemas";
import { requireScope } from "../../../middleware/auth";
import { limitBody } from "../../../middleware/body-limit";
import { findList, noSuchList } from "../../../lists/store";
import { MAX_IMPORT_ROWS, rowsFromCsv, rowsFromJson, type ImportRows } from "./import-rows";
import { analyzeAudience, type UpsertCounts, upsertContacts } from "../../../contacts/store";
import { FOREIGN_KEY_VIOLATION, pgErrorCode } from "../../../lib/pg-error";

/** New contacts in one import that warrant fresh planner statistics. */
const REANALYZE_AFTER_ROWS = 5000;
export const IMPORT_BODY_LIMIT_BYTES = 10 * 1024 * 1024;

const ImportQuery = z.object({
  list_id: z
    .string()
    .optional()
    .openapi({ param: { name: "list_id", in: "query" }, description: "Add every imported contact to this list" }),
});

const ImportResultSchema = z
  .object({
    created: z.number().int(),
    updated: z.number().int(),
    errors: z.array(
      z.object({
        row: z.number().int().openapi({ description: "1-based data row: the CSV header and blank lines are not counted" }),
        field: z.string(),
        message: z.string(),
      }),
    ),
  })
  .openapi("ContactImportResult");

/**
 * On createRoute, not defineRoute: the body is JSON or CSV (two content types, not required so the
 * JSON validator lets CSV through), and the route raises the body limit with its own middleware.
 */
export const route = createRoute({
  method: "post",
  path: "/import",
  tags: ["contacts"],
  summary: `Upsert up to ${MAX_IMPORT_ROWS} contacts by email, from JSON or CSV`,
  description: [
    "The body is required: a JSON array of ContactImportRow, or CSV (text/csv, RFC 4180) with a header row.",
    "CSV columns email (required), name and status fill those fields; every other column becomes an attribute,",
    "and empty cells give no value. Existing contacts keep any field a row leaves out. Invalid rows are",
    "reported in errors and skipped; the valid rows are written. The body may be up to 10 MiB.",
  ].join(" "),
  security: [{ bearerAuth: [] }],
  middleware: [requireScope("contacts:write"), limitBody(IMPORT_BODY_LIMIT_BYTES)] as const,
  request: {
    query: ImportQuery,
    // Not marked required: the generated JSON validator would otherwise reject CSV bodies before the handler sees them.
    body: {
      required: false,
      content: {
        "application/json": { schema: z.array(z.unknown()).openapi({ items: { $ref: "#/components/schemas/ContactImportRow" } }) },
        "text/csv": { schema: z.string().openapi({ example: "email,name,plan\nada@example.com,Ada,pro\n" }) },
      },
    },
  },
  responses: {
    200: { description: "What was written, and why any row was not", content: { "application/json": { schema: ImportResultSchema } } },
    ...problems(400, 401, 403, 404, 413, 415, 422),
  },
});

function jsonRows(body: unknown): unknown[] {
  if (Array.isArray(body)) return body;
  throw new HeraldError("validation_failed", "invalid body", { errors: [{ field: "body", message: "expected an array of contacts" }] });
}

function mediaType(header: string | undefined): string {
  return (header ?? "").split(";")[0]!.trim().toLowerCase();
}

export const handler: Handler<typeof route> = async (c) => {
  const { tenantId } = c.var.principal;
  const listId = c.req.valid("query").list_id;
  const list = listId === undefined ? undefined : await findList(c.var.db, tenantId, listId);
  const type = mediaType(c.req.header("content-type"));
  let parsed: ImportRows;
  if (type === "text/csv") parsed = rowsFromCsv(await c.req.text());
  else if (type === "application/json") parsed = rowsFromJson(jsonRows(c.req.valid("json")));
  else throw new HeraldError("unsupported_media_type", "send the contacts as application/json or text/csv");
  const { rows, errors } = parsed;
  let counts: UpsertCounts;
  try {
    counts = await upsertContacts(c.var.db, tenantId, rows, list?.id);
  } catch (err) {
    // The list was deleted between the check above and the write.
    if (list && pgErrorCode(err) === FOREIGN_KEY_VIOLATION) throw noSuchList();
    throw err;
  }
  c.var.logger.info("contacts imported", { ...counts, rejected: errors.length, list_id: list?.id });
  // A big import changes the tables faster than autovacuum re-plans them; fresh statistics keep a
  // campaign launched right after it on index plans. After the response, off the request's path.
  if (counts.created >= REANALYZE_AFTER_ROWS) c.var.defer(analyzeAudience(c.var.db));
  return c.json({ ...counts, errors }, 200);
};

export type ImportContactsBody = RequestBody<typeof route>;
export type ImportContactsResponse = ResponseBody<typeof route>;
