// Rate limits on both backends: the RateLimiter Durable Object (the normal test env) and Upstash
// (@upstash/ratelimit against the local Upstash REST endpoint in front of a real redis-server).
// Tiny limits come from RATE_LIMIT_OVERRIDES, so the real table stays as it is.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { classify, RATE_LIMITS } from "../src/ratelimit";
import { DurableObjectPermits } from "../src/ratelimit/durable-object";
import { LEASE_MIN_LIMIT, LeasingLimiter } from "../src/ratelimit/leasing";
import type { PermitStore } from "../src/ratelimit/limiter";
import { UpstashPermits } from "../src/ratelimit/upstash";
import { signToken } from "../src/tracking/token";
import { call, expectProblem, newTenant } from "./helpers";

type TestEnv = Env & { TEST_UPSTASH_URL: string; TEST_UPSTASH_TOKEN: string };
const UPSTASH_URL = (env as TestEnv).TEST_UPSTASH_URL;
const UPSTASH_TOKEN = (env as TestEnv).TEST_UPSTASH_TOKEN;
if (!UPSTASH_URL)
  console.warn("[rate-limit.test] Upstash backend skipped: redis-server is not installed (apt-get install -y redis-server)");

const WINDOW_MS = 2_000;
const tiny = { limit: 2, windowSeconds: 2 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Start just after a window boundary, so a short exhaustion can't straddle two windows. */
const alignToWindow = () => sleep(WINDOW_MS - (Date.now() % WINDOW_MS) + 30);
/** A client address of its own per test, so the per-IP limit never couples tests. */
const newIp = () => `198.51.100.${Math.floor(Math.random() * 250) + 1}-${crypto.randomUUID().slice(0, 8)}`;

const overrides = (o: unknown) => ({ RATE_LIMIT_OVERRIDES: JSON.stringify(o) });

afterEach(() => {
  vi.restoreAllMocks();
});

describe("the limits table and request classes", () => {
  it("has generous per-minute limits per plan × class, and a per-IP limit", () => {
    expect(RATE_LIMITS.plans.free).toEqual({ read: { limit: 600, windowSeconds: 60 }, send: { limit: 60, windowSeconds: 60 } });
    expect(RATE_LIMITS.plans.pro).toEqual({ read: { limit: 6000, windowSeconds: 60 }, send: { limit: 600, windowSeconds: 60 } });
    expect(RATE_LIMITS.plans.enterprise).toEqual({ read: { limit: 60000, windowSeconds: 60 }, send: { limit: 6000, windowSeconds: 60 } });
    expect(RATE_LIMITS.ip).toEqual({ limit: 3000, windowSeconds: 60 });
  });

  it("classifies launch, resume, retry-failed and sending email as send, everything else as read", () => {
    const id = crypto.randomUUID();
    for (const action of ["launch", "resume", "retry-failed"]) expect(classify("POST", `/v1/campaigns/${id}/${action}`)).toBe("send");
    expect(classify("POST", "/v1/emails")).toBe("send");
    expect(classify("POST", "/v1/emails/batch")).toBe("send");
    expect(classify("GET", "/v1/emails/abc")).toBe("read");
    expect(classify("POST", "/v1/emails/abc/cancel")).toBe("read");
    expect(classify("POST", `/v1/campaigns/${id}/pause`)).toBe("read");
    expect(classify("GET", `/v1/campaigns/${id}/launch`)).toBe("read");
    expect(classify("POST", "/v1/campaigns")).toBe("read");
    expect(classify("GET", "/v1/contacts")).toBe("read");
  });
});

describe("the RateLimiter Durable Object's sliding window", () => {
  it("weights the previous window by its overlap", async () => {
    const stub = env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(`unit:${crypto.randomUUID()}`));
    const rule = { limit: 4, windowSeconds: 10 };
    const t0 = 1_000_000_000_000; // a multiple of 10 s
    {
      const first = [];
      for (let i = 0; i < 5; i++) first.push(await stub.take(rule, 1, t0 + 1_000));
      expect(first.map((r) => [r.success, r.remaining])).toEqual([
        [true, 3],
        [true, 2],
        [true, 1],
        [true, 0],
        [false, 0],
      ]);
      // Full window: wait 9 s for it to end, then until 4 × (1 − x) + 1 ≤ 4, i.e. 2.5 s more.
      expect(first[4]!.resetSeconds).toBe(12);
      // 5 s into the next window the previous one weighs 4 × 0.5 = 2: two requests pass.
      const next = [];
      for (let i = 0; i < 3; i++) next.push(await stub.take(rule, 1, t0 + 15_000));
      expect(next.map((r) => r.success)).toEqual([true, true, false]);
      // Two windows later nothing is left of either.
      expect(await stub.take(rule, 1, t0 + 30_000)).toMatchObject({ success: true, remaining: 3 });
    }
  });

  it("rejects a malformed rule", async () => {
    const stub = env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(`unit:${crypto.randomUUID()}`));
    let message = "resolved";
    try {
      await stub.take({ limit: 0, windowSeconds: 60 }, 1);
    } catch (err) {
      message = String((err as Error).message);
    }
    expect(message).toMatch(/invalid rate limit rule/);
  });
});

describe("the Durable Object's block grants", () => {
  it("grants up to the room left, then none", async () => {
    const stub = env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(`unit:${crypto.randomUUID()}`));
    const rule = { limit: 10, windowSeconds: 60 };
    const t0 = Math.floor(Date.now() / 60_000) * 60_000 + 1_000;
    expect(await stub.take(rule, 7, t0)).toMatchObject({ granted: 7, remaining: 3, success: true });
    expect(await stub.take(rule, 7, t0)).toMatchObject({ granted: 3, remaining: 0, success: true });
    expect(await stub.take(rule, 1, t0)).toMatchObject({ granted: 0, remaining: 0, success: false });
  });
});

/** Counts the calls that reach the real store. */
function counting(store: PermitStore): PermitStore & { calls: number } {
  const counted = {
    calls: 0,
    take: (...args: Parameters<PermitStore["take"]>) => {
      counted.calls++;
      return store.take(...args);
    },
  };
  return counted;
}

const permitStores = [
  { name: "Durable Object", skip: false, store: (): PermitStore => new DurableObjectPermits(env.RATE_LIMITER) },
  { name: "Upstash", skip: !UPSTASH_URL, store: (): PermitStore => new UpstashPermits(UPSTASH_URL, UPSTASH_TOKEN) },
];

for (const backend of permitStores) {
  describe.skipIf(backend.skip)(`permit leasing over the ${backend.name}`, () => {
    it("serves a busy key from leased blocks, never past the limit, with a falling remaining count", async () => {
      const store = counting(backend.store());
      const limiter = new LeasingLimiter(store);
      const rule = { limit: 1_000, windowSeconds: 60 };
      const key = `lease:${crypto.randomUUID()}`;
      const results = [];
      for (let i = 0; i < 900; i++) results.push(await limiter.limit(key, rule));
      // Doubling from one permit to 20 takes 5 calls; the rest is 20 at a time.
      expect(store.calls).toBeLessThan(60);
      for (let i = 0; i < 200; i++) results.push(await limiter.limit(key, rule));
      const passed = results.filter((r) => r.success).length;
      // Blocks grow to 1/50 of the limit; whatever is leased is counted by the store.
      expect(passed).toBeLessThanOrEqual(1_000);
      expect(passed).toBeGreaterThanOrEqual(1_000 - rule.limit / 50);
      const remaining = results.filter((r) => r.success).map((r) => r.remaining);
      for (let i = 1; i < remaining.length; i++) expect(remaining[i]).toBeLessThanOrEqual(remaining[i - 1]!);
      expect(results.at(-1)).toMatchObject({ success: false });
    });

    it("concurrent requests of one isolate share one refill", async () => {
      const store = counting(backend.store());
      const limiter = new LeasingLimiter(store);
      const key = `lease:${crypto.randomUUID()}`;
      const results = await Promise.all(Array.from({ length: 20 }, () => limiter.limit(key, { limit: 1_000, windowSeconds: 60 })));
      expect(results.every((r) => r.success)).toBe(true);
      expect(store.calls).toBeLessThan(20);
    });

    it(`asks the store on every request below ${LEASE_MIN_LIMIT} per window, so small limits are exact`, async () => {
      const store = counting(backend.store());
      const limiter = new LeasingLimiter(store);
      const key = `lease:${crypto.randomUUID()}`;
      const results = [];
      for (let i = 0; i < 12; i++) results.push(await limiter.limit(key, { limit: 10, windowSeconds: 60 }));
      expect(store.calls).toBe(12);
      expect(results.filter((r) => r.success)).toHaveLength(10);
      expect(results.map((r) => r.remaining).slice(0, 10)).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    });
  });
}

const backends = [
  { name: "Durable Object fallback", skip: false, env: (): Partial<Env> => ({}) },
  {
    name: "Upstash",
    skip: !UPSTASH_URL,
    env: (): Partial<Env> => ({ UPSTASH_REDIS_REST_URL: UPSTASH_URL, UPSTASH_REDIS_REST_TOKEN: UPSTASH_TOKEN }),
  },
];

for (const backend of backends) {
  describe.skipIf(backend.skip)(`rate limits on the ${backend.name}`, () => {
    it("successful responses carry RateLimit and RateLimit-Policy for the key limit", async () => {
      const t = await newTenant();
      const res = await call("/v1/api-keys", { token: t.apiKey, headers: { "cf-connecting-ip": newIp() }, env: backend.env() });
      expect(res.status, await res.clone().text()).toBe(200);
      expect(res.headers.get("ratelimit-policy")).toBe('"read";q=600;w=60');
      expect(res.headers.get("ratelimit")).toMatch(/^"read";r=599;t=\d+$/);
    });

    it("exhausts the key limit with a 429 problem and its headers, then recovers after the window", async () => {
      const t = await newTenant();
      const ip = newIp();
      const opts = {
        token: t.apiKey,
        headers: { "cf-connecting-ip": ip },
        env: { ...backend.env(), ...overrides({ free: { read: tiny } }) },
      };
      await alignToWindow();
      const ok = [await call("/v1/api-keys", opts), await call("/v1/api-keys", opts)];
      expect(ok.map((r) => r.status)).toEqual([200, 200]);
      expect(ok.map((r) => r.headers.get("ratelimit-policy"))).toEqual(['"read";q=2;w=2', '"read";q=2;w=2']);
      expect(ok[0]!.headers.get("ratelimit")).toMatch(/^"read";r=1;t=[12]$/);
      expect(ok[1]!.headers.get("ratelimit")).toMatch(/^"read";r=0;t=[12]$/);

      const denied = await call("/v1/api-keys", opts);
      const problem = await expectProblem(denied, 429, "rate_limited");
      expect(problem.title).toBe("Too many requests");
      const retryAfter = Number(denied.headers.get("retry-after"));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(4);
      expect(denied.headers.get("ratelimit-policy")).toBe('"read";q=2;w=2');
      expect(denied.headers.get("ratelimit")).toBe(`"read";r=0;t=${retryAfter}`);

      // Another credential of the same tenant has its own budget.
      const other = await newTenant();
      expect((await call("/v1/api-keys", { ...opts, token: other.apiKey })).status).toBe(200);

      await sleep(retryAfter * 1000 + 50);
      const after = await call("/v1/api-keys", opts);
      expect(after.status, await after.clone().text()).toBe(200);
    });

    it("counts send and read separately", async () => {
      const t = await newTenant();
      const opts = {
        token: t.apiKey,
        headers: { "cf-connecting-ip": newIp() },
        env: { ...backend.env(), ...overrides({ free: { read: tiny, send: tiny } }) },
      };
      const launch = () => call(`/v1/campaigns/${crypto.randomUUID()}/launch`, { ...opts, method: "POST" });
      await alignToWindow();
      expect((await call("/v1/api-keys", opts)).status).toBe(200);
      expect((await call("/v1/api-keys", opts)).status).toBe(200);
      await expectProblem(await call("/v1/api-keys", opts), 429, "rate_limited");
      // The read budget is spent; sends still pass the limiter (404: no such campaign).
      expect((await launch()).status).toBe(404);
      expect((await launch()).status).toBe(404);
      const denied = await launch();
      await expectProblem(denied, 429, "rate_limited");
      expect(denied.headers.get("ratelimit-policy")).toBe('"send";q=2;w=2');
    });

    it("a pro tenant gets the pro limit", async () => {
      const res = await call("/v1/tenants", {
        method: "POST",
        token: env.ADMIN_SECRET,
        json: { name: `pro-${crypto.randomUUID().slice(0, 8)}`, plan: "pro" },
      });
      expect(res.status).toBe(201);
      const pro = ((await res.json()) as { api_key: { key: string } }).api_key.key;
      const free = (await newTenant()).apiKey;
      // Minute windows: eight requests on a loaded machine can take longer than a 2 s window, and
      // the keys are fresh (new tenants), so no earlier window weighs on the count.
      const limits = overrides({ free: { read: { limit: 2, windowSeconds: 60 } }, pro: { read: { limit: 4, windowSeconds: 60 } } });
      const ip = newIp();
      await alignToWindow();
      const run = async (token: string, n: number) => {
        const out = [];
        for (let i = 0; i < n; i++)
          out.push(await call("/v1/api-keys", { token, headers: { "cf-connecting-ip": ip }, env: { ...backend.env(), ...limits } }));
        return out;
      };
      const proRuns = await run(pro, 5);
      expect(proRuns.map((r) => r.status)).toEqual([200, 200, 200, 200, 429]);
      expect(proRuns[0]!.headers.get("ratelimit-policy")).toBe('"read";q=4;w=60');
      const freeRuns = await run(free, 3);
      expect(freeRuns.map((r) => r.status)).toEqual([200, 200, 429]);
      expect(freeRuns[0]!.headers.get("ratelimit-policy")).toBe('"read";q=2;w=60');
    });

    it("limits each client IP on every /v1 request, authenticated or not", async () => {
      const ip = newIp();
      const opts = { headers: { "cf-connecting-ip": ip }, env: { ...backend.env(), ...overrides({ ip: tiny }) } };
      await alignToWindow();
      expect((await call("/v1/api-keys", opts)).status).toBe(401);
      expect((await call("/v1/api-keys", opts)).status).toBe(401);
      const denied = await call("/v1/api-keys", opts);
      await expectProblem(denied, 429, "rate_limited");
      expect(denied.headers.get("ratelimit-policy")).toBe('"ip";q=2;w=2');
      expect(Number(denied.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      // Another address is unaffected; x-forwarded-for is the fallback when cf-connecting-ip is absent.
      expect((await call("/v1/api-keys", { ...opts, headers: { "cf-connecting-ip": newIp() } })).status).toBe(401);
      const xff = `${newIp()}, 10.0.0.1`;
      const viaXff = { ...opts, headers: { "x-forwarded-for": xff } };
      expect((await call("/v1/api-keys", viaXff)).status).toBe(401);
      expect((await call("/v1/api-keys", viaXff)).status).toBe(401);
      expect((await call("/v1/api-keys", viaXff)).status).toBe(429);
      // Provider webhooks are signature-checked and arrive in bursts from a few addresses: not IP-limited.
      const inbound = `/v1/webhooks/inbound/${crypto.randomUUID()}`;
      for (let i = 0; i < 3; i++) expect((await call(inbound, { ...opts, method: "POST", body: "{}" })).status).toBe(404);
    });
  });
}

describe("when the store is unreachable", () => {
  it("fails open: requests pass, without RateLimit headers, and a warning is logged", async () => {
    const t = await newTenant();
    const logs: string[] = [];
    vi.spyOn(console, "log").mockImplementation((line: unknown) => {
      logs.push(String(line));
    });
    // Nothing listens on port 9: every Upstash call is refused.
    const opts = {
      token: t.apiKey,
      headers: { "cf-connecting-ip": newIp() },
      env: {
        UPSTASH_REDIS_REST_URL: "http://127.0.0.1:9",
        UPSTASH_REDIS_REST_TOKEN: "x",
        ...overrides({ free: { read: tiny }, ip: tiny }),
      },
    };
    const statuses = [];
    for (let i = 0; i < 4; i++) {
      const res = await call("/v1/api-keys", opts);
      statuses.push(res.status);
      expect(res.headers.get("ratelimit")).toBeNull();
    }
    expect(statuses).toEqual([200, 200, 200, 200]);
    const warnings = logs
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.msg === "rate limiter unavailable; failing open");
    expect(warnings.length).toBeGreaterThanOrEqual(8); // the IP and the key limit, on each request
    expect(warnings[0]).toMatchObject({ level: "warn", backend: "upstash" });
  });
});

describe("endpoints never refused for rate", () => {
  it("answers the one-click unsubscribe POST, the open pixel, the click redirect and inbound webhooks while /v1 is rate limited", async () => {
    const { tenantId } = await newTenant();
    const ip = newIp();
    const opts = { headers: { "cf-connecting-ip": ip }, env: overrides({ ip: { limit: 1, windowSeconds: 60 } }) };
    expect((await call("/v1/api-keys", opts)).status).toBe(401);
    await expectProblem(await call("/v1/api-keys", opts), 429, "rate_limited");

    const claims = { t: tenantId, m: crypto.randomUUID() };
    const unsubscribe = await signToken(env.TRACKING_SECRET, {
      ...claims,
      k: "u",
      e: `rl-${crypto.randomUUID().slice(0, 8)}@example.test`,
    });
    const open = await signToken(env.TRACKING_SECRET, { ...claims, k: "o" });
    const click = await signToken(env.TRACKING_SECRET, { ...claims, k: "c", u: "https://example.test/landing" });
    for (let i = 0; i < 3; i++) {
      const res = await call(`/u/${unsubscribe}`, {
        ...opts,
        method: "POST",
        body: "List-Unsubscribe=One-Click",
        headers: { ...opts.headers, "content-type": "application/x-www-form-urlencoded" },
      });
      expect(res.status, await res.clone().text()).toBe(200);
      const pixel = await call(`/t/o/${open}`, opts);
      expect(pixel.status).toBe(200);
      expect(pixel.headers.get("content-type")).toBe("image/gif");
      const redirect = await call(`/t/c/${click}`, { ...opts, redirect: "manual" });
      expect(redirect.status).toBe(302);
      expect(redirect.headers.get("location")).toBe("https://example.test/landing");
      // No such inbound endpoint: the answer is the route's own 404, never a 429.
      await expectProblem(
        await call(`/v1/webhooks/inbound/${crypto.randomUUID()}`, { ...opts, method: "POST", body: "{}" }),
        404,
        "not_found",
      );
    }
    await expectProblem(await call("/v1/api-keys", opts), 429, "rate_limited");
  });
});
