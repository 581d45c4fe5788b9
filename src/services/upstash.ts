import { Redis } from "@upstash/redis/cloudflare";

const clients = new Map<string, Redis>();

/**
 * The isolate's Upstash client for a database, shared by the cache and the rate limiter. One quick
 * retry for a transient error; callers bound the whole call themselves.
 */
export function upstashRedis(url: string, token: string): Redis {
  const id = `${url}\n${token}`;
  let redis = clients.get(id);
  if (!redis) {
    redis = new Redis({ url, token, retry: { retries: 1, backoff: () => 50 } });
    clients.set(id, redis);
  }
  return redis;
}
