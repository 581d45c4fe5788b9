import { OpenAPIHono } from "@hono/zod-openapi";
import type { HonoEnv } from "../env";
import { HeraldError, type FieldError } from "../errors";
import { echoKey, unstorableStrings } from "../lib/json-guard";
import { declaredScopes } from "../middleware/scope-tags";

interface Issue {
  path: PropertyKey[];
  message: string;
  code?: string;
  keys?: string[];
}

const TARGET_NAMES: Record<string, string> = {
  json: "body",
  query: "query",
  param: "path",
  header: "header",
  form: "body",
  cookie: "cookie",
};

export function fieldErrors(target: string, issues: readonly Issue[]): FieldError[] {
  const prefix = TARGET_NAMES[target] ?? target;
  return issues.flatMap((issue) =>
    // An unknown key is reported at the key itself, so a typo is named exactly.
    issue.code === "unrecognized_keys" && issue.keys?.length
      ? issue.keys.map((key) => ({
          field: [prefix, ...issue.path.map((p) => echoKey(String(p))), echoKey(key)].join("."),
          message: `unknown field "${echoKey(key)}"`,
        }))
      : [{ field: [prefix, ...issue.path.map((p) => echoKey(String(p)))].join("."), message: issue.message }],
  );
}

type Security = Record<string, string[]>[];

/**
 * A route's OpenAPI security with the scopes its middleware demand listed under bearerAuth
 * (OpenAPI 3.1 lets a non-OAuth scheme list the roles it needs), so the document says what each
 * operation requires and the route-security test can check it is enforced.
 */
export function securityWithScopes(security: Security | undefined, scopes: string[]): Security | undefined {
  if (scopes.length === 0) return security;
  if (!security?.length) return [{ bearerAuth: scopes }];
  return security.map((requirement) => ("bearerAuth" in requirement ? { ...requirement, bearerAuth: scopes } : requirement));
}

/** Every router shares one validation hook, so every validation failure has the same problem shape. */
export function newRouter(): OpenAPIHono<HonoEnv> {
  const router = new OpenAPIHono<HonoEnv>({
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
  // Each route's required scope goes into the document from the middleware that enforces it, so
  // the two cannot disagree and no route file has to repeat it.
  const register = router.openapi;
  router.openapi = ((route, handler, hook) => {
    const security = securityWithScopes(route.security as Security | undefined, declaredScopes(route.middleware));
    return register(security === route.security ? route : { ...route, security }, handler, hook);
  }) as typeof register;
  return router;
}
