import { createRoute, z } from "@hono/zod-openapi";
import type { Handler, ResponseBody } from "../define";

/** On createRoute: defineRoute cannot yet type a route that validates nothing (its request is `unknown`). */
export const route = createRoute({
  method: "get",
  path: "/health",
  summary: "Liveness: answers without touching any dependency",
  responses: { 200: { description: "Alive", content: { "application/json": { schema: z.object({ status: z.literal("ok") }) } } } },
});

export const handler: Handler<typeof route> = (c) => {
  c.header("cache-control", "no-store");
  return c.json({ status: "ok" as const }, 200);
};

export type GetHealthResponse = ResponseBody<typeof route>;
