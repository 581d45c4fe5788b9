import { DurableObject } from "cloudflare:workers";
import type { RateLimitRule } from "../src/ratelimit/limits";
import type { RateLimitResult } from "../src/ratelimit/limiter";
import { StoredValue } from "./stored-value";

interface Window {
  windowMs: number;
  /** Start (epoch ms, a multiple of windowMs) of the current fixed window. */
  start: number;
  current: number;
  previous: number;
  lastSeen: number;
}

/**
 * One per limited key (idFromName): a sliding window approximated by two fixed windows, the
 * previous one weighted by how much of it still overlaps the sliding window. Idle objects clear
 * their storage with an alarm.
 */
export class RateLimiter extends DurableObject<Env> {
  private readonly stored: StoredValue<Window>;
  private w: Window | undefined;
  private alarmSet = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.stored = new StoredValue(ctx.storage.sql, "ratelimit");
    this.w = this.stored.load();
  }

  /**
   * Takes up to `want` permits at once (at least one, or none when the window is full). The
   * per-isolate leasing in src/ratelimit/leasing.ts asks for blocks so most requests need no call.
   */
  take(rule: RateLimitRule, want: number, now = Date.now()): RateLimitResult & { granted: number } {
    if (!Number.isInteger(rule?.limit) || rule.limit <= 0 || !Number.isInteger(rule.windowSeconds) || rule.windowSeconds <= 0) {
      throw new RangeError("invalid rate limit rule");
    }
    if (!Number.isInteger(want) || want < 1) throw new RangeError("invalid permit count");
    const windowMs = rule.windowSeconds * 1000;
    const start = now - (now % windowMs);
    let w = this.w;
    if (!w || w.windowMs !== windowMs || start - w.start > windowMs) {
      w = { windowMs, start, current: 0, previous: 0, lastSeen: now };
    } else if (start - w.start === windowMs) {
      w = { ...w, start, previous: w.current, current: 0 };
    }
    const elapsed = now - start;
    const weight = 1 - elapsed / windowMs;
    const used = w.previous * weight + w.current;
    const granted = Math.max(0, Math.min(want, Math.floor(rule.limit - used)));
    const success = granted > 0;
    w.current += granted;
    w.lastSeen = now;
    this.w = w;
    this.stored.save(w);
    this.scheduleCleanup(now);

    const toWindowEnd = windowMs - elapsed;
    let waitMs = toWindowEnd;
    if (!success) {
      if (w.current + 1 <= rule.limit && w.previous > 0) {
        // This window has room; wait until the previous window's weight has slid away enough.
        waitMs = windowMs * (1 - (rule.limit - w.current - 1) / w.previous) - elapsed;
      } else {
        // This window alone is full: wait for the next one, then for its share of this one to fade.
        waitMs = toWindowEnd + Math.max(0, windowMs * (1 - (rule.limit - 1) / w.current));
      }
    }
    return {
      success,
      granted,
      limit: rule.limit,
      remaining: Math.max(0, Math.floor(rule.limit - used - granted)),
      resetSeconds: Math.max(1, Math.ceil(waitMs / 1000)),
    };
  }

  override async alarm(): Promise<void> {
    this.alarmSet = false;
    const w = this.w;
    if (!w) return;
    const idleUntil = w.lastSeen + 2 * w.windowMs;
    if (Date.now() >= idleUntil) {
      // Both windows are over: nothing worth keeping.
      this.ctx.storage.sql.exec("DELETE FROM ratelimit");
      this.w = undefined;
    } else {
      this.scheduleCleanup(w.lastSeen);
    }
  }

  private scheduleCleanup(from: number) {
    if (this.alarmSet || !this.w) return;
    this.alarmSet = true;
    void this.ctx.storage.setAlarm(from + 2 * this.w.windowMs + 1000);
  }
}
