/** A small JSON cache. Backends: Workers KV now; Upstash Redis can sit behind the same interface. */
export interface Cache {
  get<T>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown, ttlSeconds: number): Promise<void>;
  delete(key: string): Promise<void>;
}

// KV rejects expirationTtl below 60 seconds.
const KV_MIN_TTL = 60;

export class KvCache implements Cache {
  constructor(
    private readonly kv: KVNamespace,
    private readonly prefix = "herald:",
  ) {}

  async get<T>(key: string): Promise<T | undefined> {
    const value = await this.kv.get<T>(this.prefix + key, "json");
    return value ?? undefined;
  }

  async set(key: string, value: unknown, ttlSeconds: number): Promise<void> {
    await this.kv.put(this.prefix + key, JSON.stringify(value), {
      expirationTtl: Math.max(KV_MIN_TTL, Math.ceil(ttlSeconds)),
    });
  }

  async delete(key: string): Promise<void> {
    await this.kv.delete(this.prefix + key);
  }
}
