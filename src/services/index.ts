import { config, type Config } from "../config";
import { type Limiter, rateLimiterFor } from "../ratelimit";
import { createCache, type Cache } from "./cache";
import { openDb, type Db, type DbHandle } from "./db";
import { JsonLogger, type LogFields, type Logger } from "./logger";

export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/**
 * What one request, queue batch or cron tick works with. Everything is made on first use, so a
 * request served from the cache never builds a pool; close() ends what was opened.
 */
export interface Services {
  config: Config;
  logger: Logger;
  /** Opened on the first query; a Neon Pool must not outlive its request or batch. */
  db: Db;
  cache: Cache;
  limiter: Limiter;
  clock: Clock;
  /** Work to finish after the response or batch, before the pool is closed. */
  defer(task: Promise<unknown>): void;
  /** Waits for deferred work, then ends the pool if one was opened. Hand it to waitUntil. */
  close(): Promise<void>;
}

/** A logger at the environment's LOG_LEVEL with `fields` on every line. */
export function newLogger(env: Env, fields: LogFields): Logger {
  return new JsonLogger(fields, config(env).logLevel);
}

/** The one builder for the fetch, queue and scheduled handlers (see Services). */
export function buildServices(env: Env, logger: Logger): Services {
  let handle: DbHandle | undefined;
  let cache: Cache | undefined;
  let limiter: Limiter | undefined;
  const deferred: Promise<unknown>[] = [];
  const open = () => (handle ??= openDb(env));
  const defer = (task: Promise<unknown>) => {
    deferred.push(task.catch((err) => logger.warn("deferred task failed", { err })));
  };
  const db = new Proxy({} as Db, {
    get(_target, prop) {
      const real = open().db;
      const value = Reflect.get(real, prop, real);
      return typeof value === "function" ? value.bind(real) : value;
    },
  });
  return {
    config: config(env),
    logger,
    db,
    get cache() {
      cache ??= createCache(env);
      return cache;
    },
    get limiter() {
      limiter ??= rateLimiterFor(env, defer).limiter;
      return limiter;
    },
    clock: systemClock,
    defer,
    async close() {
      // Deferred work may itself defer more (or query), so drain until nothing new arrives.
      for (let seen = 0; seen < deferred.length; ) {
        const batch = deferred.slice(seen);
        seen = deferred.length;
        await Promise.allSettled(batch);
      }
      await handle?.close();
    },
  };
}
