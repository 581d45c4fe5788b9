import { DurableObject } from "cloudflare:workers";
import { StoredValue } from "./stored-value";

export interface LimiterSettings {
  /** Sustained sends per second. */
  ratePerSecond: number;
  /** Tokens the bucket holds; a burst above the rate. Defaults to one second's worth. */
  burst?: number;
  /** Sends per UTC day; 0 means unlimited. */
  dailyQuota: number;
}

export interface Lease {
  granted: number;
  /** When fewer were granted than asked: how long to wait before asking again. */
  retryAfterSeconds: number;
  /** Why the grant fell short, if it did. */
  limitedBy: "rate" | "daily_quota" | null;
}

export interface LimiterState {
  settings: LimiterSettings;
  tokens: number;
  day: string;
  usedToday: number;
}

const DEFAULTS: LimiterSettings = { ratePerSecond: 10, dailyQuota: 0 };

/**
 * One per provider: a token bucket for the per-second rate plus a daily quota, so every consumer
 * sending through that provider draws from the same budget. A batch leases its tokens in one call.
 */
export class ProviderLimiter extends DurableObject<Env> {
  private readonly stored: StoredValue<LimiterState>;
  private state: LimiterState;
  private lastRefill: number;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.stored = new StoredValue(ctx.storage.sql, "limiter");
    this.state = this.stored.load() ?? { settings: DEFAULTS, tokens: DEFAULTS.ratePerSecond, day: utcDay(Date.now()), usedToday: 0 };
    this.lastRefill = Date.now();
  }

  configure(settings: LimiterSettings): LimiterState {
    if (!(settings.ratePerSecond > 0) || !(settings.dailyQuota >= 0)) throw new RangeError("invalid limiter settings");
    this.refill(Date.now());
    // A bigger bucket starts with the extra room filled; a smaller one keeps what still fits.
    const grown = Math.max(0, capacity(settings) - capacity(this.state.settings));
    this.state.settings = { ...settings };
    this.state.tokens = Math.min(this.state.tokens + grown, capacity(settings));
    this.persist();
    return this.snapshot();
  }

  lease(count: number, now = Date.now()): Lease {
    if (!Number.isInteger(count) || count < 0) throw new RangeError("count must be a non-negative integer");
    this.refill(now);
    const { settings } = this.state;
    const quotaLeft = settings.dailyQuota > 0 ? Math.max(0, settings.dailyQuota - this.state.usedToday) : Infinity;
    const granted = Math.min(count, Math.floor(this.state.tokens), quotaLeft);
    this.state.tokens -= granted;
    this.state.usedToday += granted;
    this.persist();
    if (granted === count) return { granted, retryAfterSeconds: 0, limitedBy: null };
    if (granted === quotaLeft) {
      return { granted, retryAfterSeconds: Math.ceil((nextUtcMidnight(now) - now) / 1000), limitedBy: "daily_quota" };
    }
    const missing = count - granted - this.state.tokens;
    return { granted, retryAfterSeconds: Math.max(1, Math.ceil(missing / settings.ratePerSecond)), limitedBy: "rate" };
  }

  snapshot(): LimiterState {
    this.refill(Date.now());
    return structuredClone(this.state);
  }

  private refill(now: number) {
    const day = utcDay(now);
    if (day !== this.state.day) {
      this.state.day = day;
      this.state.usedToday = 0;
    }
    const elapsed = Math.max(0, now - this.lastRefill) / 1000;
    this.lastRefill = now;
    this.state.tokens = Math.min(capacity(this.state.settings), this.state.tokens + elapsed * this.state.settings.ratePerSecond);
  }

  private persist() {
    this.stored.save(this.state);
  }
}

function capacity(settings: LimiterSettings): number {
  return settings.burst ?? settings.ratePerSecond;
}

function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function nextUtcMidnight(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
}
