import { createMiddleware } from "hono/factory";
import type { HonoEnv } from "../env";
import { createCache } from "../services/cache";
import { openDb, type Db, type DbHandle } from "../services/db";

/**
 * Builds the per-request services. The database pool is opened on the first query, so requests
 * served from the cache never build one, and closed after the response (and after any deferred
 * work), because a Neon Pool must not outlive its request.
 */
export const services = createMiddleware<HonoEnv>(async (c, next) => {
  let handle: DbHandle | undefined;
  const db = new Proxy({} as Db, {
    get(_target, prop) {
      handle ??= openDb(c.env);
      const value = Reflect.get(handle.db, prop, handle.db);
      return typeof value === "function" ? value.bind(handle.db) : value;
    },
  });
  const deferred: Promise<unknown>[] = [];
  c.set("db", db);
  c.set("cache", createCache(c.env));
  c.set("defer", (task) => {
    deferred.push(task.catch((err) => c.var.logger.warn("deferred task failed", { err })));
  });
  try {
    await next();
  } finally {
    const done = Promise.allSettled(deferred).then(() => handle?.close());
    try {
      c.executionCtx.waitUntil(done);
    } catch {
      // app.request() in unit tests has no ExecutionContext; finishing inline is fine there.
      await done;
    }
  }
});
