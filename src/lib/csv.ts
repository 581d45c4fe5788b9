/** RFC 4180 CSV: comma-separated fields, `"`-quoted fields that may hold commas, `""` and line breaks. */

export class CsvSyntaxError extends Error {
  readonly line: number;

  constructor(message: string, line: number) {
    super(`${message} (line ${line})`);
    this.name = "CsvSyntaxError";
    this.line = line;
  }
}

export class CsvTooManyRecords extends Error {
  constructor(readonly limit: number) {
    super(`more than ${limit} records`);
    this.name = "CsvTooManyRecords";
  }
}

export interface CsvOptions {
  /** Stop with CsvTooManyRecords once more than this many records (the header included) are read. */
  maxRecords?: number;
}

const QUOTE = 34;
const COMMA = 44;
const CR = 13;
const LF = 10;

/**
 * Parses CSV text into records. Line endings may be CRLF, LF or CR; a leading BOM and blank lines
 * are ignored. Spreadsheet exports often carry a stray quote inside an unquoted field (5" screen),
 * so that is kept as text; only a quote left open, or text after a closing quote, is an error,
 * because both mean the file's fields can no longer be told apart.
 */
export function parseCsv(input: string, options: CsvOptions = {}): string[][] {
  const maxRecords = options.maxRecords ?? Infinity;
  const text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  const records: string[][] = [];
  let record: string[] = [];
  let line = 1;
  let i = 0;
  const n = text.length;

  const endRecord = () => {
    // A line with nothing on it is one empty field by the letter of the RFC, but never a row anyone meant.
    if (!(record.length === 1 && record[0] === "")) {
      if (records.length >= maxRecords) throw new CsvTooManyRecords(maxRecords);
      records.push(record);
    }
    record = [];
  };

  while (i < n) {
    let field: string;
    if (text.charCodeAt(i) === QUOTE) {
      const openedAt = line;
      let value = "";
      let start = ++i;
      for (;;) {
        const q = text.indexOf('"', start);
        if (q < 0) throw new CsvSyntaxError("a quoted field is never closed", openedAt);
        value += text.slice(start, q);
        if (text.charCodeAt(q + 1) === QUOTE) {
          value += '"';
          start = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      for (let k = value.indexOf("\n"); k >= 0; k = value.indexOf("\n", k + 1)) line++;
      field = value;
      const next = text.charCodeAt(i);
      if (i < n && next !== COMMA && next !== CR && next !== LF) {
        throw new CsvSyntaxError("text follows a closing quote; quote the whole field and double any quote inside it", line);
      }
    } else {
      const start = i;
      while (i < n) {
        const c = text.charCodeAt(i);
        if (c === COMMA || c === CR || c === LF) break;
        i++;
      }
      field = text.slice(start, i);
    }
    record.push(field);
    if (i >= n) break;
    const c = text.charCodeAt(i);
    if (c === COMMA) {
      i++;
      if (i >= n) record.push("");
      continue;
    }
    // CR, LF or CRLF ends the record.
    i += c === CR && text.charCodeAt(i + 1) === LF ? 2 : 1;
    line++;
    endRecord();
  }
  if (record.length > 0) endRecord();
  return records;
}
