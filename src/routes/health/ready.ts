import { z } from "@hono/zod-openapi";
import { defineRoute, type Handler, type ResponseBody } from "../define";
import { HeraldError } from "../../errors";
import { services } from "../../middleware/services";
import { readinessChecks } from "./checks";

const ReadySchema = z.object({
  status: z.literal("ready"),
  checks: z.record(z.string(), z.enum(["ok", "fail"])),
});

/** Outside /v1, so it sets up the database and cache its checks use itself. */
export const route = defineRoute("get", "/ready", null, {
  summary: "Readiness: checks Postgres, KV, Durable Objects and the queue bindings",
  middleware: [services],
  responses: [[200, ReadySchema, "Ready"], 503],
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
