import type { RateLimitRule } from "./limits";
import type { PermitGrant, PermitStore, RateLimitResult, Limiter } from "./limiter";

/** Below this limit every request asks the store, so small limits stay exact. */
export const LEASE_MIN_LIMIT = 100;
/** A lease holds at most 1/50 of the limit: an isolate can run at most 2 % over it. */
const LEASE_FRACTION = 50;
/** Permits not used within this long are dropped (counted as used, never handed back). */
export const LEASE_TTL_MS = 1_000;
const MAX_TRACKED_KEYS = 10_000;

interface Lease {
  /** Permits this isolate may still hand out without asking the store. */
  left: number;
  size: number;
  expires: number;
  /** The store's remaining count when the lease was granted (leased permits already deducted). */
  storeRemaining: number;
  resetSeconds: number;
  limit: number;
}

const leases = new Map<string, Lease>();
/** Keys whose refill is in flight in this isolate. */
const refills = new Set<string>();
const WAIT_STEP_MS = 1;
const MAX_WAIT_MS = 50;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Serves permits from blocks leased from the store, per isolate, so a busy key costs one store
 * call per block instead of one per request. A block starts at one permit and doubles while the
 * previous block was used up before it expired, up to 1/50 of the limit: a quiet key asks for one
 * permit at a time (exact), a hot one asks a few times a second. The bound on overshoot is what
 * other isolates hold unused: at most 2 % of the limit each, for at most a second.
 */
export class LeasingLimiter implements Limiter {
  constructor(private readonly store: PermitStore) {}

  async limit(key: string, rule: RateLimitRule): Promise<RateLimitResult> {
    if (rule.limit < LEASE_MIN_LIMIT) return fromGrant(await this.store.take(key, rule, 1));
    const id = `${key}\n${rule.limit}/${rule.windowSeconds}`;
    let waited = 0;
    for (;;) {
      const lease = leases.get(id);
      const now = Date.now();
      if (lease && lease.left > 0 && now < lease.expires) {
        lease.left--;
        return { success: true, limit: lease.limit, remaining: lease.storeRemaining + lease.left, resetSeconds: lease.resetSeconds };
      }
      if (refills.has(id) && waited < MAX_WAIT_MS) {
        // Another request of this isolate is already asking. Its promise belongs to that request
        // (workerd does not let one request wait on another's I/O), so poll for the new lease on a
        // timer of our own, and ask the store ourselves if it takes too long.
        await sleep(WAIT_STEP_MS);
        waited += WAIT_STEP_MS;
        continue;
      }
      const size = nextSize(lease, now, rule);
      refills.add(id);
      let grant: PermitGrant;
      try {
        grant = await this.store.take(key, rule, size);
      } finally {
        refills.delete(id);
      }
      if (grant.granted === 0) {
        leases.delete(id);
        return fromGrant(grant);
      }
      if (leases.size >= MAX_TRACKED_KEYS) leases.clear();
      leases.set(id, {
        left: grant.granted - 1,
        size,
        expires: Date.now() + LEASE_TTL_MS,
        storeRemaining: grant.remaining,
        resetSeconds: grant.resetSeconds,
        limit: grant.limit,
      });
      return { success: true, limit: grant.limit, remaining: grant.remaining + grant.granted - 1, resetSeconds: grant.resetSeconds };
    }
  }
}

function nextSize(previous: Lease | undefined, now: number, rule: RateLimitRule): number {
  const max = Math.max(1, Math.floor(rule.limit / LEASE_FRACTION));
  if (!previous) return 1;
  const usedUpInTime = previous.left === 0 && now < previous.expires;
  return usedUpInTime ? Math.min(max, previous.size * 2) : Math.max(1, Math.floor(previous.size / 2));
}

function fromGrant(g: PermitGrant): RateLimitResult {
  return { success: g.granted > 0, limit: g.limit, remaining: g.remaining, resetSeconds: g.resetSeconds };
}
