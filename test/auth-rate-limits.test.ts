// Rate limits on authentication (issue 11): token exchange, signup and the console's sign-in are
// limited per client address and per account, failures hard. Every test uses client addresses of
// its own, so the rest of the suite (one address, "unknown") is never locked out by these.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import type { HonoEnv } from "../src/env";
import { HeraldError } from "../src/errors";
import { onError } from "../src/middleware/errors";
import { limitAuthAttempt } from "../src/middleware/rate-limit";
import { requestContext } from "../src/middleware/request-context";
import { services } from "../src/middleware/services";
import { RATE_LIMITS } from "../src/ratelimit";
import { ADMIN_SECRET, call, expectProblem, newTenant } from "./helpers";

const newIp = () => `203.0.113.${Math.floor(Math.random() * 250) + 1}-${crypto.randomUUID().slice(0, 8)}`;
const overrides = (o: unknown): Partial<Env> => ({ RATE_LIMIT_OVERRIDES: JSON.stringify(o) });
const unknownKey = () => `hk_${crypto.randomUUID().replace(/-/g, "").padEnd(43, "A").slice(0, 43)}`;
const FAILURES = RATE_LIMITS.auth.token.ipFailures.limit;

type TestEnv = Env & { TEST_UPSTASH_URL: string; TEST_UPSTASH_TOKEN: string };
const UPSTASH_URL = (env as TestEnv).TEST_UPSTASH_URL;
const UPSTASH_TOKEN = (env as TestEnv).TEST_UPSTASH_TOKEN;
// Upstash settings switch both the limiter and the cache that holds lockouts.
const backends = [
  { name: "the Durable Object and KV", skip: false, env: {} as Partial<Env> },
  {
    name: "Upstash",
    skip: !UPSTASH_URL,
    env: { UPSTASH_REDIS_REST_URL: UPSTASH_URL, UPSTASH_REDIS_REST_TOKEN: UPSTASH_TOKEN } as Partial<Env>,
  },
];

describe("the auth limits table", () => {
  it("limits failures hard (10 per address per minute) and attempts generously", () => {
    for (const flow of ["token", "signup", "signin"] as const) {
      expect(RATE_LIMITS.auth[flow].ipFailures).toEqual({ limit: 10, windowSeconds: 60 });
    }
    expect(RATE_LIMITS.auth.token.ip).toEqual({ limit: 600, windowSeconds: 60 });
    expect(RATE_LIMITS.auth.token.account).toEqual({ limit: 60, windowSeconds: 60 });
    expect(RATE_LIMITS.auth.signup.ip).toEqual({ limit: 600, windowSeconds: 60 });
    expect(RATE_LIMITS.auth.signin).toMatchObject({ ip: { limit: 60, windowSeconds: 60 }, account: { limit: 30, windowSeconds: 60 } });
    expect(RATE_LIMITS.auth.signin.accountFailures).toEqual({ limit: 10, windowSeconds: 900 });
  });
});

describe("POST /v1/auth/token", () => {
  const exchange = (token: string, ip: string, env?: Partial<Env>) =>
    call("/v1/auth/token", { method: "POST", token, headers: { "cf-connecting-ip": ip }, env });

  for (const backend of backends) {
    it.skipIf(backend.skip)(
      `locks an address out after ${FAILURES} failed exchanges in a minute, even for a valid key (${backend.name})`,
      async () => {
        const { apiKey } = await newTenant();
        const ip = newIp();
        for (let i = 0; i < FAILURES; i++) await expectProblem(await exchange(unknownKey(), ip, backend.env), 401, "unauthorized");
        const locked = await exchange(apiKey, ip, backend.env);
        const problem = await expectProblem(locked, 429, "rate_limited");
        expect(problem.detail).toMatch(/failed attempts/);
        expect(Number(locked.headers.get("retry-after"))).toBeGreaterThan(50);
        expect(locked.headers.get("ratelimit-policy")).toBe('"token-failures";q=10;w=60');
        await expectProblem(await exchange(unknownKey(), ip, backend.env), 429, "rate_limited");
        // Another address is unaffected.
        expect((await exchange(apiKey, newIp(), backend.env)).status).toBe(200);
      },
    );
  }

  it("keeps failures under other limits (RATE_LIMIT_OVERRIDES) apart from the normal ones", async () => {
    const ip = newIp();
    const lifted = overrides({ auth: { token: { ipFailures: { limit: 1000, windowSeconds: 60 } } } });
    for (let i = 0; i < FAILURES + 2; i++) await expectProblem(await exchange(unknownKey(), ip, lifted), 401, "unauthorized");
    // Under the normal limits this address has failed no time yet.
    await expectProblem(await exchange(unknownKey(), ip), 401, "unauthorized");
  });

  it("does not count a refused JWT exchange (403) or a successful one as a failure", async () => {
    const { apiKey } = await newTenant();
    const ip = newIp();
    const env = overrides({ auth: { token: { ipFailures: { limit: 2, windowSeconds: 60 } } } });
    const res = await exchange(apiKey, ip, env);
    const { access_token } = (await res.json()) as { access_token: string };
    for (let i = 0; i < 3; i++) await expectProblem(await exchange(access_token, ip, env), 403, "forbidden");
    for (let i = 0; i < 3; i++) expect((await exchange(apiKey, ip, env)).status).toBe(200);
  });

  it("limits exchanges per key, whatever the address", async () => {
    const a = await newTenant();
    const b = await newTenant();
    const env = overrides({ auth: { token: { account: { limit: 2, windowSeconds: 60 } } } });
    expect((await exchange(a.apiKey, newIp(), env)).status).toBe(200);
    expect((await exchange(a.apiKey, newIp(), env)).status).toBe(200);
    const denied = await exchange(a.apiKey, newIp(), env);
    await expectProblem(denied, 429, "rate_limited");
    expect(denied.headers.get("ratelimit-policy")).toBe('"token-attempts";q=2;w=60');
    expect((await exchange(b.apiKey, newIp(), env)).status).toBe(200);
  });

  it("limits exchange attempts per address", async () => {
    const { apiKey } = await newTenant();
    const ip = newIp();
    const env = overrides({ auth: { token: { ip: { limit: 2, windowSeconds: 60 } } } });
    expect((await exchange(apiKey, ip, env)).status).toBe(200);
    expect((await exchange(apiKey, ip, env)).status).toBe(200);
    await expectProblem(await exchange(apiKey, ip, env), 429, "rate_limited");
  });
});

describe("POST /v1/tenants (signup)", () => {
  const signup = (token: string, ip: string, env?: Partial<Env>) =>
    call("/v1/tenants", {
      method: "POST",
      token,
      json: { name: `rl-${crypto.randomUUID().slice(0, 8)}` },
      headers: { "cf-connecting-ip": ip },
      env,
    });

  it(`locks an address out after ${FAILURES} wrong admin secrets in a minute, even with the right one`, async () => {
    const ip = newIp();
    for (let i = 0; i < FAILURES; i++) await expectProblem(await signup(`guess-${i}`, ip), 401, "unauthorized");
    const locked = await signup(ADMIN_SECRET, ip);
    await expectProblem(locked, 429, "rate_limited");
    expect(locked.headers.get("ratelimit-policy")).toBe('"signup-failures";q=10;w=60');
    expect((await signup(ADMIN_SECRET, newIp())).status).toBe(201);
  });

  it("limits signup attempts per address", async () => {
    const ip = newIp();
    const env = overrides({ auth: { signup: { ip: { limit: 2, windowSeconds: 60 } } } });
    expect((await signup(ADMIN_SECRET, ip, env)).status).toBe(201);
    expect((await signup(ADMIN_SECRET, ip, env)).status).toBe(201);
    await expectProblem(await signup(ADMIN_SECRET, ip, env), 429, "rate_limited");
  });
});

describe("limitAuthAttempt, for the console's sign-in", () => {
  // A stand-in sign-in route, as the console will mount one: the account is named before the check.
  const app = new Hono<HonoEnv>();
  app.use("*", requestContext, services);
  app.post("/signin", async (c) => {
    const { email, password } = await c.req.json<{ email: string; password: string }>();
    await limitAuthAttempt(
      c,
      "signin",
      async () => {
        if (password !== "right") throw new HeraldError("unauthorized", "wrong email or password");
      },
      { account: email },
    );
    return c.json({ ok: true });
  });
  app.onError(onError);

  async function signin(email: string, password: string, ip: string, extra?: Partial<Env>) {
    const ctx = createExecutionContext();
    const res = await app.request(
      "/signin",
      {
        method: "POST",
        body: JSON.stringify({ email, password }),
        headers: { "content-type": "application/json", "cf-connecting-ip": ip },
      },
      { ...env, ...extra },
      ctx,
    );
    await waitOnExecutionContext(ctx);
    return res;
  }

  it("locks an account out after its failures, from whichever addresses they came", async () => {
    const email = `${crypto.randomUUID()}@example.test`;
    const limits = overrides({ auth: { signin: { accountFailures: { limit: 3, windowSeconds: 60 } } } });
    for (let i = 0; i < 3; i++) await expectProblem(await signin(email, "wrong", newIp(), limits), 401, "unauthorized");
    const locked = await signin(email, "right", newIp(), limits);
    const problem = await expectProblem(locked, 429, "rate_limited");
    expect(problem.detail).toMatch(/this account/);
    expect((await signin(`${crypto.randomUUID()}@example.test`, "right", newIp(), limits)).status).toBe(200);
  });

  it(`locks an address out after ${FAILURES} failures, whichever accounts they named`, async () => {
    const ip = newIp();
    for (let i = 0; i < FAILURES; i++)
      await expectProblem(await signin(`${crypto.randomUUID()}@example.test`, "wrong", ip), 401, "unauthorized");
    await expectProblem(await signin(`${crypto.randomUUID()}@example.test`, "right", ip), 429, "rate_limited");
    expect((await signin(`${crypto.randomUUID()}@example.test`, "right", newIp())).status).toBe(200);
  });
});
