// Shared by the rate limit suites: the local Upstash endpoint (empty when redis-server is missing,
// and those cases skip), tiny limits through RATE_LIMIT_OVERRIDES, windows to start in, and client
// addresses of their own.
import { env } from "cloudflare:workers";

type TestEnv = Env & { TEST_UPSTASH_URL: string; TEST_UPSTASH_TOKEN: string };
export const UPSTASH_URL = (env as TestEnv).TEST_UPSTASH_URL;
export const UPSTASH_TOKEN = (env as TestEnv).TEST_UPSTASH_TOKEN;
if (!UPSTASH_URL) console.warn("[rate-limit] Upstash backend skipped: redis-server is not installed (apt-get install -y redis-server)");

const WINDOW_MS = 2_000;
export const tiny = { limit: 2, windowSeconds: 2 };
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Start just after a window boundary, so a short exhaustion can't straddle two windows. */
export const alignToWindow = () => sleep(WINDOW_MS - (Date.now() % WINDOW_MS) + 30);
/** A client address of its own per test, so the per-IP limit never couples tests. */
export const newIp = () => `198.51.100.${Math.floor(Math.random() * 250) + 1}-${crypto.randomUUID().slice(0, 8)}`;

export const overrides = (o: unknown) => ({ RATE_LIMIT_OVERRIDES: JSON.stringify(o) });
