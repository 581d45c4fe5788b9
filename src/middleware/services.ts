import { createMiddleware } from "hono/factory";
import type { HonoEnv } from "../env";
import { buildServices } from "../services";

/**
 * Gives the request its services (src/services/index.ts). They are closed after the response and
 * after any deferred work, because a Neon Pool must not outlive its request.
 */
export const services = createMiddleware<HonoEnv>(async (c, next) => {
  const s = buildServices(c.env, c.var.logger);
  c.set("db", s.db);
  c.set("cache", s.cache);
  c.set("defer", s.defer);
  try {
    await next();
  } finally {
    const done = s.close();
    try {
      c.executionCtx.waitUntil(done);
    } catch {
      // app.request() in unit tests has no ExecutionContext; finishing inline is fine there.
      await done;
    }
  }
});
