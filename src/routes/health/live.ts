import { z } from "@hono/zod-openapi";
import { defineRoute, type Handler, type ResponseBody } from "../define";

export const route = defineRoute("get", "/health", null, {
  summary: "Liveness: answers without touching any dependency",
  responses: [[200, z.object({ status: z.literal("ok") }), "Alive"]],
});

export const handler: Handler<typeof route> = (c) => {
  c.header("cache-control", "no-store");
  return c.json({ status: "ok" as const }, 200);
};

export type GetHealthResponse = ResponseBody<typeof route>;
