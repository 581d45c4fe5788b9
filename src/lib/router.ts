import { OpenAPIHono } from "@hono/zod-openapi";
import type { HonoEnv } from "../env";
import { HeraldError, type FieldError } from "../errors";

interface Issue {
  path: PropertyKey[];
  message: string;
  code?: string;
  keys?: string[];
}

const TARGET_NAMES: Record<string, string> = { json: "body", query: "query", param: "path", header: "header", form: "body", cookie: "cookie" };

export function fieldErrors(target: string, issues: readonly Issue[]): FieldError[] {
  const prefix = TARGET_NAMES[target] ?? target;
  return issues.flatMap((issue) =>
    // An unknown key is reported at the key itself, so a typo is named exactly.
    issue.code === "unrecognized_keys" && issue.keys?.length
      ? issue.keys.map((key) => ({ field: [prefix, ...issue.path.map(String), key].join("."), message: `unknown field "${key}"` }))
      : [{ field: [prefix, ...issue.path.map(String)].join("."), message: issue.message }],
  );
}

const MAX_NUL_ERRORS = 20;

/** The paths of strings (values or keys) that contain NUL, at most a few. */
function nulFields(value: unknown, path: string[], out: FieldError[] = []): FieldError[] {
  if (out.length >= MAX_NUL_ERRORS) return out;
  if (typeof value === "string") {
    if (value.includes("\0")) out.push({ field: path.join("."), message: "must not contain NUL characters" });
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => nulFields(v, [...path, String(i)], out));
  } else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      if (k.includes("\0")) out.push({ field: [...path, k.replace(/\0/g, "\\0")].join("."), message: "keys must not contain NUL characters" });
      else nulFields(v, [...path, k], out);
    }
  }
  return out;
}

/** Every router shares one validation hook, so every validation failure has the same problem shape. */
export function newRouter(): OpenAPIHono<HonoEnv> {
  return new OpenAPIHono<HonoEnv>({
    defaultHook: (result) => {
      if (result.success) {
        // PostgreSQL text cannot hold NUL, so a NUL anywhere in the input is refused here, by field,
        // rather than by the database as a 500.
        const errors = nulFields(result.data, [TARGET_NAMES[result.target] ?? result.target]);
        if (errors.length > 0) throw new HeraldError("validation_failed", `invalid ${errors.map((e) => e.field).join(", ")}`, { errors });
        return;
      }
      const errors = fieldErrors(result.target, result.error.issues);
      throw new HeraldError("validation_failed", `invalid ${errors.map((e) => e.field).join(", ")}`, { errors });
    },
  });
}
