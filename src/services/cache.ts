import { config, type Settings } from "../config";
import type { Redis } from "@upstash/redis/cloudflare";
import { TtlCache } from "../lib/ttl-cache";
import { upstashRedis } from "./upstash";

export interface CacheGetOptions {
  /**
   * Skip the per-isolate memory layer. For entries whose invalidation must reach every isolate
   * within the backend's own bound (API keys), not the memory layer's.
   */
  memory?: boolean;
}

/** A small JSON cache: Workers KV by default, Upstash Redis when configured, memory in front. */
export interface Cache {
  /** "kv" is eventually consistent (deletes reach every location within about 60 s); "upstash" at once. */
  readonly backend: "kv" | "upstash";
  get<T>(key: string, options?: CacheGetOptions): Promise<T | undefined>;
  set(key: string, value: unknown, ttlSeconds: number): Promise<void>;
  delete(key: string): Promise<void>;
}

type Backend = Omit<Cache, "get"> & { get<T>(key: string): Promise<T | undefined> };

// KV rejects expirationTtl below 60 seconds.
const KV_MIN_TTL = 60;
/**
 * How long a KV read may be served from the location's cache (KV's minimum). KV's default is 60 s;
 * 30 s keeps an invalidation's worst case (this plus the memory layer's 5 s) under 60 s.
 */
export const KV_READ_CACHE_SECONDS = 30;
const PREFIX = "herald:";

export class KvCache implements Backend {
  readonly backend = "kv" as const;
  constructor(private readonly kv: KVNamespace) {}

  async get<T>(key: string): Promise<T | undefined> {
    return (await this.kv.get<T>(PREFIX + key, { type: "json", cacheTtl: KV_READ_CACHE_SECONDS })) ?? undefined;
  }
  async set(key: string, value: unknown, ttlSeconds: number): Promise<void> {
    await this.kv.put(PREFIX + key, JSON.stringify(value), { expirationTtl: Math.max(KV_MIN_TTL, Math.ceil(ttlSeconds)) });
  }
  async delete(key: string): Promise<void> {
    await this.kv.delete(PREFIX + key);
  }
}

export class UpstashCache implements Backend {
  readonly backend = "upstash" as const;
  constructor(private readonly redis: Redis) {}

  async get<T>(key: string): Promise<T | undefined> {
    return ((await this.redis.get<T>(PREFIX + key)) ?? undefined) as T | undefined;
  }
  async set(key: string, value: unknown, ttlSeconds: number): Promise<void> {
    await this.redis.set(PREFIX + key, value, { ex: Math.max(1, Math.ceil(ttlSeconds)) });
  }
  async delete(key: string): Promise<void> {
    await this.redis.del(PREFIX + key);
  }
}

/** Seconds an entry lives in an isolate's memory before the backend is asked again. */
export const MEMORY_TTL_SECONDS = 5;
const memory = new TtlCache<unknown>(2000, MEMORY_TTL_SECONDS * 1000);

/**
 * The per-isolate memory layer in front of either backend. Its TTL bounds how stale another
 * isolate can be after an invalidation; entries that need the backend's own bound skip it.
 */
export class LayeredCache implements Cache {
  readonly backend: Cache["backend"];
  constructor(private readonly inner: Backend) {
    this.backend = inner.backend;
  }

  async get<T>(key: string, options: CacheGetOptions = {}): Promise<T | undefined> {
    const now = Date.now();
    const scoped = `${this.backend}:${key}`;
    if (options.memory !== false) {
      const hit = memory.get(scoped, now);
      if (hit !== undefined) return hit as T;
    }
    const value = await this.inner.get<T>(key);
    if (value !== undefined && options.memory !== false) remember(scoped, value, now);
    return value;
  }

  async set(key: string, value: unknown, ttlSeconds: number): Promise<void> {
    await this.inner.set(key, value, ttlSeconds);
    remember(`${this.backend}:${key}`, value, Date.now());
  }

  async delete(key: string): Promise<void> {
    memory.delete(`${this.backend}:${key}`);
    await this.inner.delete(key);
  }
}

function remember(key: string, value: unknown, now: number) {
  memory.set(key, deepFreeze(structuredClone(value)), now + MEMORY_TTL_SECONDS * 1000);
}

/**
 * Memory hits are shared between requests, so they are frozen once when stored instead of copied
 * on every hit: a caller that tried to change one would throw rather than corrupt the next request.
 */
function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** Upstash when both settings are present, Workers KV otherwise; memory in front of either. */
export function createCache(env: Settings & Pick<Env, "CACHE">): Cache {
  const { upstash } = config(env);
  if (upstash) return new LayeredCache(new UpstashCache(upstashRedis(upstash.url, upstash.token)));
  return new LayeredCache(new KvCache(env.CACHE));
}
