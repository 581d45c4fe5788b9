import { DurableObject } from "cloudflare:workers";
import type { BatchLease, BreakerState, Lane, Lease, LimiterSettings } from "../src/services/durable-objects";
import { StoredValue } from "./stored-value";

export interface LimiterState {
  settings: LimiterSettings;
  /** The main bucket: campaigns draw only on it. */
  tokens: number;
  /** The reserved bucket (reserveShare of the rate): only transactional mail draws on it. */
  reserveTokens?: number;
  day: string;
  usedToday: number;
  breaker: BreakerState;
  consecutiveFailures: number;
  openedAt: number | null;
  cooldownMs: number;
  probeInFlight: boolean;
  /** When the probe was granted: a probe never reported (its sender died) expires. */
  probeStartedAt?: number;
}

const EPSILON = 1e-9;

/** Consecutive failed batches that open the breaker. */
export const BREAKER_THRESHOLD = 5;
const BASE_COOLDOWN_MS = 30_000;
const PROBE_EXPIRY_MS = 60_000;
const MAX_COOLDOWN_MS = 5 * 60_000;
const DEFAULTS: LimiterSettings = { ratePerSecond: 10, dailyQuota: 0 };

/**
 * One per provider: a token bucket for the per-second rate, a daily quota and a circuit breaker,
 * so every consumer sending through that provider draws from one budget and sees one health state.
 * A batch leases all its tokens in one call.
 */
export class ProviderLimiter extends DurableObject<Env> {
  private readonly stored: StoredValue<LimiterState>;
  private state: LimiterState;
  private lastRefill: number;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.stored = new StoredValue(ctx.storage.sql, "limiter");
    this.state = this.stored.load() ?? {
      settings: DEFAULTS,
      tokens: DEFAULTS.ratePerSecond,
      day: utcDay(Date.now()),
      usedToday: 0,
      breaker: "closed",
      consecutiveFailures: 0,
      openedAt: null,
      cooldownMs: BASE_COOLDOWN_MS,
      probeInFlight: false,
    };
    this.lastRefill = Date.now();
  }

  configure(settings: LimiterSettings): LimiterState {
    validateSettings(settings);
    this.refill(Date.now());
    this.applySettings(settings);
    this.persist();
    return this.snapshot();
  }

  /**
   * Leases `count` tokens, all or nothing. Passing the provider's current settings keeps the
   * limiter in step with the provider row without a separate configure call.
   */
  lease(count: number, settings?: LimiterSettings, now = Date.now()): Lease {
    const b = this.leaseBatch([count], settings, now);
    return {
      granted: b.grantedMessages === 1,
      count,
      retryAfterSeconds: b.retryAfterSeconds,
      limitedBy: b.limitedBy,
      breaker: b.breaker,
      reportOutcome: b.reportOutcome,
    };
  }

  /**
   * Leases tokens for the messages of a queue batch in one call: each message (`counts[i]`
   * recipients) gets all its tokens or none, in order, until the bucket, the daily quota or the
   * breaker says stop. The caller sends the first `grantedMessages` and retries the rest after
   * `retryAfterSeconds`.
   */
  leaseBatch(counts: number[], settings?: LimiterSettings, now = Date.now(), lane: Lane = "campaign", allowPartial = false): BatchLease {
    if (!Array.isArray(counts) || counts.some((c) => !Number.isInteger(c) || c < 0)) {
      throw new RangeError("count must be a non-negative integer");
    }
    if (settings) validateSettings(settings);
    this.refill(now);
    if (settings) this.applySettings(settings);
    const s = this.state;
    const result = (
      grantedMessages: number,
      grantedTokens: number,
      limitedBy: Lease["limitedBy"],
      retryAfterSeconds: number,
      probe: boolean,
      partialTokens = 0,
    ): BatchLease => {
      // Transactional mail spends the reserved bucket first and the main one after it.
      const fromReserve = lane === "transactional" ? Math.min(Math.max(0, s.reserveTokens ?? 0), grantedTokens) : 0;
      // The rest comes from the main bucket, which was checked to hold it (never deepening a campaign debt).
      s.reserveTokens = (s.reserveTokens ?? 0) - fromReserve;
      s.tokens -= grantedTokens - fromReserve;
      s.usedToday += grantedTokens;
      if (probe && grantedMessages > 0) {
        s.probeInFlight = true;
        s.probeStartedAt = now;
      }
      this.persist();
      return {
        grantedMessages,
        grantedTokens,
        retryAfterSeconds: grantedMessages < counts.length ? retryAfterSeconds : 0,
        limitedBy: grantedMessages < counts.length ? limitedBy : null,
        breaker: s.breaker,
        reportOutcome: (grantedMessages > 0 || partialTokens > 0) && (probe || s.consecutiveFailures > 0),
        ...(partialTokens > 0 ? { partialTokens } : {}),
      };
    };

    let probe = false;
    if (s.breaker === "open") {
      const reopensAt = (s.openedAt ?? now) + s.cooldownMs;
      if (now < reopensAt) return result(0, 0, "circuit_open", Math.ceil((reopensAt - now) / 1000), false);
      s.breaker = "half_open";
      s.probeInFlight = false;
    }
    if (s.breaker === "half_open") {
      // One probe message at a time tests the provider; everyone else waits for its verdict, unless
      // the probe's sender never reported back.
      if (s.probeInFlight && now - (s.probeStartedAt ?? 0) < PROBE_EXPIRY_MS) return result(0, 0, "circuit_open", 5, false);
      probe = true;
    }

    const share = s.settings.reserveShare ?? 0;
    const cap = lane === "transactional" ? capacity(s.settings) : capacity(s.settings) * (1 - share);
    // A campaign message bigger than the bucket leaves the main bucket in debt; that debt is the
    // campaigns' alone, and the reserved bucket still serves transactional mail meanwhile.
    const inBuckets = lane === "transactional" ? Math.max(0, s.tokens) + Math.max(0, s.reserveTokens ?? 0) : s.tokens;
    const rate =
      lane === "campaign"
        ? s.settings.ratePerSecond * (1 - share)
        : s.tokens > 0 || share === 0
          ? s.settings.ratePerSecond
          : s.settings.ratePerSecond * share;
    const quota = s.settings.dailyQuota > 0 ? s.settings.dailyQuota : Infinity;
    let granted = 0;
    let tokens = 0;
    for (const count of counts) {
      if (s.usedToday + tokens + count > quota) {
        // What is left of today's quota goes to part of this message, if the bucket holds it now.
        const left = Math.floor(quota - s.usedToday - tokens);
        const partial = allowPartial && left > 0 && left <= inBuckets - tokens + EPSILON && (granted === 0 || !probe) ? left : 0;
        return result(granted, tokens + partial, "daily_quota", Math.ceil((nextUtcMidnight(now) - now) / 1000), probe, partial);
      }
      const available = inBuckets - tokens;
      // A message bigger than the bucket could never fit; it goes alone, once the bucket is full.
      // EPSILON: the two buckets' capacities are fractions of one capacity, and their sum can land
      // a hair short of it in floating point.
      const fits = count <= cap + EPSILON ? available + EPSILON >= count : granted === 0 && available + EPSILON >= cap;
      if (!fits) {
        const needed = Math.min(count, cap) - available;
        return result(granted, tokens, "rate", Math.max(1, Math.ceil(needed / rate)), probe);
      }
      tokens += count;
      granted++;
      if (probe) break;
    }
    return result(granted, tokens, granted < counts.length ? "circuit_open" : null, 5, probe);
  }

  /** Returns tokens a granted batch did not use (its campaign was paused, say). */
  refund(count: number): void {
    if (!Number.isInteger(count) || count <= 0) return;
    this.refill(Date.now());
    this.state.tokens = Math.min(mainCapacity(this.state.settings), this.state.tokens + count);
    this.state.usedToday = Math.max(0, this.state.usedToday - count);
    this.persist();
  }

  /** Records a batch's outcome for the circuit breaker. */
  reportResult(ok: boolean, now = Date.now()): BreakerState {
    const s = this.state;
    if (ok) {
      s.consecutiveFailures = 0;
      s.breaker = "closed";
      s.openedAt = null;
      s.cooldownMs = BASE_COOLDOWN_MS;
      s.probeInFlight = false;
    } else {
      s.consecutiveFailures++;
      if (s.breaker === "half_open") {
        // The probe failed: stay away longer this time.
        s.cooldownMs = Math.min(MAX_COOLDOWN_MS, s.cooldownMs * 2);
        this.open(now);
      } else if (s.consecutiveFailures >= BREAKER_THRESHOLD) {
        this.open(now);
      }
    }
    this.persist();
    return s.breaker;
  }

  snapshot(): LimiterState {
    this.refill(Date.now());
    return structuredClone(this.state);
  }

  private open(now: number) {
    this.state.breaker = "open";
    this.state.openedAt = now;
    this.state.probeInFlight = false;
  }

  private applySettings(settings: LimiterSettings) {
    const old = this.state.settings;
    if (
      old.ratePerSecond === settings.ratePerSecond &&
      old.dailyQuota === settings.dailyQuota &&
      old.burst === settings.burst &&
      old.reserveShare === settings.reserveShare
    ) {
      return;
    }
    // A bigger bucket starts with the extra room filled; a smaller one keeps what still fits.
    const grown = Math.max(0, capacity(settings) - capacity(old));
    this.state.settings = { ...settings };
    this.state.tokens = Math.min(this.state.tokens + grown, mainCapacity(settings));
    const reserveGrown = Math.max(0, reserveCapacity(settings) - reserveCapacity(old));
    this.state.reserveTokens = Math.min((this.state.reserveTokens ?? 0) + reserveGrown, reserveCapacity(settings));
  }

  private refill(now: number) {
    const day = utcDay(now);
    if (day !== this.state.day) {
      this.state.day = day;
      this.state.usedToday = 0;
    }
    const elapsed = Math.max(0, now - this.lastRefill) / 1000;
    this.lastRefill = Math.max(this.lastRefill, now);
    const { settings } = this.state;
    const share = settings.reserveShare ?? 0;
    this.state.tokens = Math.min(mainCapacity(settings), this.state.tokens + elapsed * settings.ratePerSecond * (1 - share));
    this.state.reserveTokens = Math.min(
      reserveCapacity(settings),
      (this.state.reserveTokens ?? reserveCapacity(settings)) + elapsed * settings.ratePerSecond * share,
    );
  }

  private persist() {
    this.stored.save(this.state);
  }
}

function validateSettings(settings: LimiterSettings) {
  if (
    !(settings.ratePerSecond > 0) ||
    !(settings.dailyQuota >= 0) ||
    (settings.burst !== undefined && !(settings.burst > 0)) ||
    (settings.reserveShare !== undefined && !(settings.reserveShare >= 0 && settings.reserveShare <= 0.9))
  ) {
    throw new RangeError("invalid limiter settings");
  }
}

function capacity(settings: LimiterSettings): number {
  return settings.burst ?? settings.ratePerSecond;
}

/** The main bucket holds the share of the capacity that is not reserved. */
function mainCapacity(settings: LimiterSettings): number {
  return capacity(settings) * (1 - (settings.reserveShare ?? 0));
}

function reserveCapacity(settings: LimiterSettings): number {
  return capacity(settings) - mainCapacity(settings);
}

function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function nextUtcMidnight(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
}
