import { createMiddleware } from "hono/factory";
import type { HonoEnv } from "../env";
import { HeraldError } from "../errors";
import { MAX_JSON_DEPTH, nestsDeeperThan } from "../lib/json-guard";

/**
 * Every JSON body herald reads goes through c.req.json() (the routes' validators call it). This
 * replaces it, per request, with a parse that first refuses nesting deeper than MAX_JSON_DEPTH, so
 * no later walk over the value (validation, string checks, JSON columns) can recurse without bound.
 * It stays lazy: the body is read only when a route asks for it, after that route's own body limit.
 *
 * Hono's validator turns any parse failure into "Malformed JSON", so the real reason is kept on the
 * context for onError to answer with.
 */
export const guardJsonBody = createMiddleware<HonoEnv>(async (c, next) => {
  const req = c.req;
  Object.defineProperty(req, "json", {
    configurable: true,
    value: async () => {
      const text = await req.text();
      if (nestsDeeperThan(text, MAX_JSON_DEPTH)) {
        const refusal = tooDeep();
        c.set("bodyRefusal", refusal);
        throw refusal;
      }
      return JSON.parse(text) as unknown;
    },
  });
  await next();
});

function tooDeep(): HeraldError {
  const message = `arrays and objects may nest at most ${MAX_JSON_DEPTH} levels deep`;
  return new HeraldError("bad_request", `the request body is not accepted: ${message}`, { errors: [{ field: "body", message }] });
}
