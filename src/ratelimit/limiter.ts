import type { RateLimitRule } from "./limits";

export interface RateLimitResult {
  success: boolean;
  limit: number;
  /** Requests left in the window after this one. */
  remaining: number;
  /** Seconds until the window resets (when denied: until a retry can pass). */
  resetSeconds: number;
}

export interface Limiter {
  limit(key: string, rule: RateLimitRule): Promise<RateLimitResult>;
}

/** What a backend grants when asked for several permits at once. */
export interface PermitGrant {
  /** Between 0 (denied) and the number asked for. */
  granted: number;
  limit: number;
  /** Left in the window after this grant. */
  remaining: number;
  resetSeconds: number;
}

/** A backend store (Upstash, the Durable Object) that can hand out permits in blocks. */
export interface PermitStore {
  take(key: string, rule: RateLimitRule, want: number): Promise<PermitGrant>;
}
