import { OpenAPIHono } from "@hono/zod-openapi";
import type { HonoEnv } from "../env";
import { HeraldError, type FieldError } from "../errors";
import { echoKey, unstorableStrings } from "./json-guard";

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
      ? issue.keys.map((key) => ({ field: [prefix, ...issue.path.map((p) => echoKey(String(p))), echoKey(key)].join("."), message: `unknown field "${echoKey(key)}"` }))
      : [{ field: [prefix, ...issue.path.map((p) => echoKey(String(p)))].join("."), message: issue.message }],
  );
}

/** Every router shares one validation hook, so every validation failure has the same problem shape. */
export function newRouter(): OpenAPIHono<HonoEnv> {
  return new OpenAPIHono<HonoEnv>({
    defaultHook: (result) => {
      if (result.success) {
        // Strings that could not be stored as sent are refused here, by field, rather than by the
        // database as a 500 or by the driver's silent replacement.
        const errors = unstorableStrings(result.data, [TARGET_NAMES[result.target] ?? result.target]);
        if (errors.length > 0) throw new HeraldError("validation_failed", `invalid ${errors.map((e) => e.field).join(", ")}`, { errors });
        return;
      }
      const errors = fieldErrors(result.target, result.error.issues);
      throw new HeraldError("validation_failed", `invalid ${errors.map((e) => e.field).join(", ")}`, { errors });
    },
  });
}
