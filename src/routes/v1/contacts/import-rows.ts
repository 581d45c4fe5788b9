import { z } from "@hono/zod-openapi";
import { HeraldError } from "../../../errors";
import { CsvSyntaxError, CsvTooManyRecords, parseCsv } from "../../../lib/csv";
import { Attributes, ContactEmail, ContactName, ContactStatus as StatusSchema, MAX_ATTRIBUTE_KEYS } from "../../../contacts/schema";
import type { ImportedContact } from "../../../contacts/store";

export const MAX_IMPORT_ROWS = 10_000;

export const ImportRow = z
  .object({
    email: ContactEmail,
    name: ContactName.nullable().optional().openapi({ description: "Kept as it is when missing or null" }),
    status: StatusSchema.optional().openapi({ description: "active for new contacts; kept as it is when missing" }),
    attributes: Attributes.optional().openapi({ description: "Replaces the contact's attributes when present" }),
  })
  .strict()
  .openapi("ContactImportRow");

export interface ImportRowError {
  /** 1-based position among the data rows (the CSV header and blank lines are not counted). */
  row: number;
  field: string;
  message: string;
}

export interface ImportRows {
  rows: ImportedContact[];
  errors: ImportRowError[];
}

function tooMany(): HeraldError {
  return new HeraldError("payload_too_large", `an import takes at most ${MAX_IMPORT_ROWS} rows; split it into several requests`);
}

function issueField(issue: z.core.$ZodIssue): string {
  if (issue.path.length > 0) return issue.path.map(String).join(".");
  if (issue.code === "unrecognized_keys") return issue.keys.join(",");
  return "row";
}

/**
 * Validates each row on its own, so one bad row costs only itself. When an address appears twice,
 * the later row wins and the earlier one is reported, because one statement cannot upsert a row twice.
 */
function validate(candidates: { row: number; value: unknown }[], errors: ImportRowError[] = []): ImportRows {
  const byEmail = new Map<string, { row: number; value: ImportedContact }>();
  candidates.forEach(({ row, value: candidate }) => {
    const parsed = ImportRow.safeParse(candidate);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) errors.push({ row, field: issueField(issue), message: issue.message });
      return;
    }
    const { email, name, status, attributes } = parsed.data;
    const earlier = byEmail.get(email);
    if (earlier) {
      errors.push({ row: earlier.row, field: "email", message: `${email} appears again in row ${row}; that later row was imported` });
    }
    byEmail.set(email, { row, value: { email, name: name ?? null, status: status ?? null, attributes: attributes ?? null } });
  });
  errors.sort((a, b) => a.row - b.row);
  return { rows: [...byEmail.values()].map((v) => v.value), errors };
}

export function rowsFromJson(items: unknown[]): ImportRows {
  if (items.length > MAX_IMPORT_ROWS) throw tooMany();
  return validate(items.map((value, i) => ({ row: i + 1, value })));
}

const RESERVED_COLUMNS = new Set(["email", "name", "status"]);

function badHeader(message: string): HeraldError {
  return new HeraldError("validation_failed", `invalid CSV header: ${message}`, { errors: [{ field: "body", message }] });
}

/** email, name and status columns (any case) are the contact's fields; every other column is an attribute. */
export function rowsFromCsv(text: string): ImportRows {
  // PostgreSQL text cannot hold NUL; a CSV with one is not a text file anyway.
  if (text.includes("\0")) throw new HeraldError("bad_request", "the CSV contains a NUL character; send text");
  let records: string[][];
  try {
    records = parseCsv(text, { maxRecords: MAX_IMPORT_ROWS + 1 });
  } catch (err) {
    if (err instanceof CsvTooManyRecords) throw tooMany();
    if (err instanceof CsvSyntaxError) throw new HeraldError("bad_request", `the CSV cannot be read: ${err.message}`);
    throw err;
  }
  const [header, ...data] = records;
  if (!header) throw badHeader("the body has no header row");
  const keys = header.map((cell) => {
    const name = cell.trim();
    return RESERVED_COLUMNS.has(name.toLowerCase()) ? name.toLowerCase() : name;
  });
  if (!keys.includes("email")) throw badHeader("the header row needs an email column");
  const empty = keys.indexOf("");
  if (empty >= 0) throw badHeader(`column ${empty + 1} has no name`);
  const duplicate = keys.find((k, i) => keys.indexOf(k) !== i);
  if (duplicate !== undefined) throw badHeader(`the column ${duplicate} appears twice`);
  const attributeColumns = keys.filter((k) => !RESERVED_COLUMNS.has(k)).length;
  if (attributeColumns > MAX_ATTRIBUTE_KEYS) throw badHeader(`at most ${MAX_ATTRIBUTE_KEYS} attribute columns`);

  const errors: ImportRowError[] = [];
  const candidates: { row: number; value: unknown }[] = [];
  data.forEach((cells, i) => {
    if (cells.length !== keys.length) {
      errors.push({ row: i + 1, field: "row", message: `has ${cells.length} fields; the header has ${keys.length}` });
      return;
    }
    const value: Record<string, unknown> = {};
    const attributes: Record<string, string> = {};
    keys.forEach((key, k) => {
      const cell = cells[k]!;
      // An empty cell gives no value: it never blanks out what is stored.
      if (key === "email") value.email = cell;
      else if (cell.trim() === "") return;
      else if (key === "name") value.name = cell;
      else if (key === "status") value.status = cell.trim().toLowerCase();
      else attributes[key] = cell;
    });
    if (attributeColumns > 0) value.attributes = attributes;
    candidates.push({ row: i + 1, value });
  });
  return validate(candidates, errors);
}
