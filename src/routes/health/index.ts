import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { HonoEnv } from "../../env";
import { HeraldError } from "../../errors";
import { problems } from "../../lib/schemas";
import { services } from "../../middleware/services";
import { readinessChecks } from "./checks";

const health = createRoute({
  method: "get",
  path: "/health",
  tags: ["operations"],
  summary: "Liveness: answers without touching any dependency",
  responses: { 200: { description: "Alive", content: { "application/json": { schema: z.object({ status: z.literal("ok") }) } } } },
});

const ReadySchema = z.object({
  status: z.literal("ready"),
  checks: z.record(z.string(), z.enum(["ok", "fail"])),
});

const ready = createRoute({
  method: "get",
  path: "/ready",
  tags: ["operations"],
  summary: "Readiness: checks Postgres, KV, Durable Objects and the queue bindings",
  middleware: [services] as const,
  responses: {
    200: { description: "Ready", content: { "application/json": { schema: ReadySchema } } },
    ...problems(503),
  },
});

export function registerHealth(app: OpenAPIHono<HonoEnv>) {
  app.openapi(health, (c) => {
    c.header("cache-control", "no-store");
    return c.json({ status: "ok" as const }, 200);
  });

  app.openapi(ready, async (c) => {
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
  });
}
