/**
 * The Durable Objects as their callers see them: one function per object that makes its stub, and
 * the types its RPC methods take and return. The classes in durable-objects/ implement these
 * contracts, so domain code never imports a class (an entry point) to type a call.
 */

/** The CampaignProgress Durable Object of a campaign. */
export function progressStub(env: Env, campaignId: string) {
  return env.CAMPAIGN_PROGRESS.get(env.CAMPAIGN_PROGRESS.idFromName(`campaign:${campaignId}`));
}

/** The ProviderLimiter Durable Object of a provider. */
export function limiterStub(env: Env, providerId: string) {
  return env.PROVIDER_LIMITER.get(env.PROVIDER_LIMITER.idFromName(`provider:${providerId}`));
}

// The ProviderLimiter's contract.

export interface LimiterSettings {
  /** Sustained sends per second. */
  ratePerSecond: number;
  /** Tokens the bucket holds; a burst above the rate. Defaults to one second's worth. */
  burst?: number;
  /** Sends per UTC day; 0 means unlimited. */
  dailyQuota: number;
  /**
   * The share of the rate (0 to 0.9) kept in a bucket of its own for transactional mail, so it
   * finds tokens however large a campaign is draining through the same provider.
   */
  reserveShare?: number;
}

/** Who is asking: campaign batches stay out of the reserved share; transactional mail may use it. */
export type Lane = "campaign" | "transactional";

export type BreakerState = "closed" | "open" | "half_open";

export interface Lease {
  /** All or nothing: a batch either gets every token it asked for or none. */
  granted: boolean;
  count: number;
  /** When not granted: how long to wait before asking again. */
  retryAfterSeconds: number;
  limitedBy: "rate" | "daily_quota" | "circuit_open" | null;
  breaker: BreakerState;
  /**
   * The caller must report this batch's outcome with reportResult(), because the breaker is
   * counting: a half-open probe, or failures are on record. In the healthy steady state this is
   * false and a batch costs one call.
   */
  reportOutcome: boolean;
}

export interface BatchLease {
  /** How many of the messages, from the first, got their tokens. */
  grantedMessages: number;
  grantedTokens: number;
  /** For the messages not granted: how long to wait before asking again. */
  retryAfterSeconds: number;
  limitedBy: Lease["limitedBy"];
  breaker: BreakerState;
  /** As for Lease: the outcome of the granted messages must be reported with reportResult(). */
  reportOutcome: boolean;
  /**
   * Tokens granted to the first message not granted whole (included in grantedTokens): the daily
   * quota had room for only part of it, so its first `partialTokens` recipients may go now. Without
   * this a quota smaller than one message would never send anything.
   */
  partialTokens?: number;
}
