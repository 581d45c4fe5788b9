import type { RateLimitRule } from "./limits";

export interface RateLimitResult {
  success: boolean;
  limit: number;
  /** Requests left in the window after this one. */
  remaining: number;
  /** Seconds until the window resets (when denied: until a retry can pass). */
  resetSeconds: number;
}

export interface RateLimiter {
  limit(key: string, rule: RateLimitRule): Promise<RateLimitResult>;
}
