import { transactionalShare } from "../config";
import type { LoadedProvider } from "../providers/registry";
import { limiterStub, type BatchLease, type Lane } from "../services/durable-objects";

/** The longest a sender waits on its limiters before asking again… */
const MAX_WAIT_SECONDS = 300;
/** …unless only daily quotas stand in the way: then until the next UTC day, within a queue delay's 12 h. */
const MAX_QUOTA_WAIT_SECONDS = 12 * 3600;

export interface PolicyLease<T> {
  /** Items that got their tokens, each with the provider that granted them. */
  assigned: { item: T; provider: LoadedProvider }[];
  /** Items no provider could take now, in order… */
  waiting: T[];
  /** …and how long they should wait before asking again. */
  waitSeconds: number;
  /**
   * Nothing could take the waiting items because no provider of the policy is usable: none is
   * enabled, or every enabled one has its breaker open. (A rate limit or a spent daily quota is a
   * wait, not a block: it ends by itself.)
   */
  blocked: boolean;
  /** The first waiting item, when a provider's daily quota had room for only its first `tokens` recipients. */
  partial?: { item: T; provider: LoadedProvider; tokens: number };
  leases: Map<string, BatchLease>;
}

/**
 * Walks a provider policy in order, leasing for all waiting items with one call per provider: a
 * provider whose breaker is open or whose daily quota is spent passes the rest to the next; a plain
 * rate limit means the rest wait as the limiter says. Campaign and transactional mail share it and
 * differ only in their lane (transactional mail may use the reserved share of each provider).
 */
export async function leaseInPolicyOrder<T>(
  env: Env,
  policy: string[],
  providers: Map<string, LoadedProvider>,
  items: T[],
  tokens: (item: T) => number,
  lane: Lane,
): Promise<PolicyLease<T>> {
  const assigned: PolicyLease<T>["assigned"] = [];
  const leases = new Map<string, BatchLease>();
  let waiting = items;
  let wait = Infinity;
  let waitingByDesign = false;
  let rateLimited = false;
  let partial: PolicyLease<T>["partial"];
  for (const id of policy) {
    const p = providers.get(id);
    if (!p?.enabled || waiting.length === 0) continue;
    const lease = await limiterStub(env, id).leaseBatch(
      waiting.map(tokens),
      { ratePerSecond: p.ratePerSecond, dailyQuota: p.dailyQuota, reserveShare: transactionalShare(env) },
      Date.now(),
      lane,
      true,
    );
    if (lease.grantedMessages > 0 || lease.partialTokens) leases.set(id, lease);
    for (const item of waiting.slice(0, lease.grantedMessages)) assigned.push({ item, provider: p });
    waiting = waiting.slice(lease.grantedMessages);
    if (lease.partialTokens && waiting.length > 0) {
      partial = { item: waiting[0]!, provider: p, tokens: lease.partialTokens };
      wait = Math.min(wait, lease.retryAfterSeconds);
      break;
    }
    if (waiting.length === 0) break;
    if (lease.limitedBy === "daily_quota") waitingByDesign = true;
    if (lease.limitedBy === "rate") {
      wait = lease.retryAfterSeconds;
      waitingByDesign = true;
      rateLimited = true;
      break;
    }
    wait = Math.min(wait, lease.retryAfterSeconds);
  }
  const blocked = waiting.length > 0 && assigned.length === 0 && !partial && !waitingByDesign;
  const quotaOnly = waitingByDesign && !rateLimited;
  const waitSeconds = wait === Infinity ? 60 : Math.min(quotaOnly ? MAX_QUOTA_WAIT_SECONDS : MAX_WAIT_SECONDS, wait);
  return { assigned, waiting, waitSeconds, blocked, partial, leases };
}

/**
 * Tells each leased provider's breaker how its batch went, when it failed or when the limiter asked
 * for the outcome (a half-open probe, failures on record); a healthy batch costs no call.
 */
export function reportLeaseOutcomes(
  env: Env,
  leases: Map<string, BatchLease>,
  failed: (providerId: string) => boolean,
): Promise<unknown>[] {
  const reports: Promise<unknown>[] = [];
  for (const [providerId, lease] of leases) {
    const failure = failed(providerId);
    if (failure || lease.reportOutcome) reports.push(limiterStub(env, providerId).reportResult(!failure));
  }
  return reports;
}
