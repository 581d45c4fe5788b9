/**
 * A per-isolate memo: bounded, each entry with its own expiry, the oldest entry dropped first when
 * full. Isolates live for many requests but their memory is small and shared by every tenant, so
 * what an isolate remembers must both go stale on time and never grow without bound.
 */
export class TtlCache<V> {
  // A Map iterates in insertion order, and set() re-inserts, so the first key is the oldest write.
  private readonly entries = new Map<string, { value: V; expires: number }>();

  constructor(
    private readonly maxEntries: number,
    private readonly ttlMs: number,
  ) {}

  /** The live value, or undefined once it has expired (an expired entry waits for eviction). */
  get(key: string, now = Date.now()): V | undefined {
    const entry = this.entries.get(key);
    return entry && now < entry.expires ? entry.value : undefined;
  }

  /** Stores `value` until `expires` (by default the cache's TTL from now). */
  set(key: string, value: V, expires = Date.now() + this.ttlMs): void {
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { value, expires });
  }

  delete(key: string): void {
    this.entries.delete(key);
  }
}
