// Rate limits as API clients meet them, on both backends: the RateLimiter Durable Object (the
// normal test env) and Upstash. Tiny limits come from RATE_LIMIT_OVERRIDES, so the real table stays
// as it is.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { call, expectProblem, newTenant } from "./helpers";
import { alignToWindow, newIp, overrides, sleep, tiny, UPSTASH_TOKEN, UPSTASH_URL } from "./rate-limit-helpers";

afterEach(() => {
  vi.restoreAllMocks();
});

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
