import { config } from "../config";
export { RATE_LIMITS, classify, effectiveLimits } from "./limits";
export type { AuthFlow, Plan, RateLimitRule } from "./limits";
export type { RateLimitResult, Limiter } from "./limiter";
import type { Limiter } from "./limiter";
import { DurableObjectPermits } from "./durable-object";
import { LeasingLimiter } from "./leasing";
import { UpstashPermits } from "./upstash";

/** Upstash when both settings are present, the RateLimiter Durable Object otherwise; leased per isolate. */
export function rateLimiterFor(
  env: Env,
  waitUntil?: (p: Promise<unknown>) => void,
): { limiter: Limiter; backend: "upstash" | "durable_object" } {
  const { upstash } = config(env);
  if (upstash) return { limiter: new LeasingLimiter(new UpstashPermits(upstash.url, upstash.token, waitUntil)), backend: "upstash" };
  return { limiter: new LeasingLimiter(new DurableObjectPermits(env.RATE_LIMITER)), backend: "durable_object" };
}
