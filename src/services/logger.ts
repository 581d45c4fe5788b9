export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function parseLogLevel(value: string | undefined): LogLevel {
  return value && value in RANK ? (value as LogLevel) : "info";
}

/** One JSON object per line; every line carries the bound fields (request_id above all). */
export class JsonLogger implements Logger {
  constructor(
    private readonly bound: LogFields,
    private readonly minLevel: LogLevel = "info",
    private readonly sink: (line: string) => void = (line) => console.log(line),
  ) {}

  debug(msg: string, fields?: LogFields) {
    this.write("debug", msg, fields);
  }
  info(msg: string, fields?: LogFields) {
    this.write("info", msg, fields);
  }
  warn(msg: string, fields?: LogFields) {
    this.write("warn", msg, fields);
  }
  error(msg: string, fields?: LogFields) {
    this.write("error", msg, fields);
  }
  child(fields: LogFields): Logger {
    return new JsonLogger({ ...this.bound, ...fields }, this.minLevel, this.sink);
  }

  private write(level: LogLevel, msg: string, fields?: LogFields) {
    if (RANK[level] < RANK[this.minLevel]) return;
    const line = { time: new Date().toISOString(), level, msg, ...this.bound, ...fields };
    try {
      this.sink(JSON.stringify(line, errorReplacer));
    } catch {
      this.sink(JSON.stringify({ time: line.time, level, msg, ...this.bound, note: "fields not serializable" }));
    }
  }
}

/**
 * drizzle puts every bind parameter of a failed query in the error message; those are customer
 * data (addresses, attributes), so logs keep the SQL and drop the values. The driver's own error
 * (the cause) says what Postgres objected to.
 */
function redactParams(text: string | undefined): string | undefined {
  return text?.replace(/\nparams: [\s\S]*?(?=\n {4}at |$)/, "\nparams: [redacted]");
}

function errorReplacer(_key: string, value: unknown) {
  if (value instanceof Error) {
    const cause = value.cause instanceof Error ? { name: value.cause.name, message: value.cause.message } : undefined;
    return { name: value.name, message: redactParams(value.message), stack: redactParams(value.stack), cause };
  }
  if (typeof value === "bigint") return value.toString();
  return value;
}
