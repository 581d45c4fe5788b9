import { createRoute, z } from "@hono/zod-openapi";
import type { Handler, ResponseBody } from "../define";
import { HeraldError } from "../../errors";
import { problems } from "../../lib/schemas";
import { services } from "../../middleware/services";
import { readinessChecks } from "./checks";

const ReadySchema = z.object({
  status: z.literal("ready"),
  checks: z.record(z.string(), z.enum(["ok", "fail"])),
});

/**
 * On createRoute: defineRoute cannot yet type a route that validates nothing (its request is
 * `unknown`), and this one, outside /v1, sets up the database and cache its checks use itself.
 */
export const route = createRoute({
  method: "get",
  path: "/ready",
  summary: "Readiness: checks Postgres, KV, Durable Objects and the queue bindings",
  middleware: [services] as const,
  responses: {
    200: { description: "Ready", content: { "application/json": { schema: ReadySchema } } },
    ...problems(503),
  },
});

export const handler: Handler<typeof route> = async (c) => {
  const checks = await readinessChecks(c.env, c.var.db);
  const failing = Object.keys(checks).filter((k) => checks[k] !== "ok");
  if (failing.length > 0) {
    c.var.logger.warn("not ready", { failing });
    throw new HeraldError("service_unavailable", `not ready: ${failing.join(", ")} failing`, {
      extensions: { checks },
      headers: { "cache-control": "no-store", "retry-after": "5" },
    });
  }
  c.header("cache-control", "no-store");
  return c.json({ status: "ready" as const, checks }, 200);
};

export type GetReadinessResponse = ResponseBody<typeof route>;
