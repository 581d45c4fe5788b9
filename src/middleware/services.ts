import { createMiddleware } from "hono/factory";
import type { HonoEnv } from "../env";
import { createCache } from "../services/cache";
import { openDb } from "../services/db";

/**
 * Builds the per-request services. The database pool is opened here and closed after the response
 * (and after any deferred work), because a Neon Pool must not outlive its request.
 */
export const services = createMiddleware<HonoEnv>(async (c, next) => {
  const handle = openDb(c.env);
  const deferred: Promise<unknown>[] = [];
  c.set("db", handle.db);
  c.set("cache", createCache(c.env));
  c.set("defer", (task) => {
    deferred.push(task.catch((err) => c.var.logger.warn("deferred task failed", { err })));
  });
  try {
    await next();
  } finally {
    const done = Promise.allSettled(deferred).then(() => handle.close());
    try {
      c.executionCtx.waitUntil(done);
    } catch {
      // app.request() in unit tests has no ExecutionContext; finishing inline is fine there.
      await done;
    }
  }
});
