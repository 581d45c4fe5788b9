import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { createApp } from "../src/app";
import { base64url, utf8 } from "../src/lib/encoding";
import { openDb, type Db } from "../src/services/db";
import type { JwksInfo } from "./setup/jwks-types";

export const ADMIN_SECRET = env.ADMIN_SECRET;
export const app = createApp();

type TestEnv = Env & { TEST_JWKS: string };

export function jwksInfo(): JwksInfo {
  return JSON.parse((env as TestEnv).TEST_JWKS) as JwksInfo;
}

export interface CallOptions extends RequestInit {
  /** Bearer credential. */
  token?: string;
  json?: unknown;
  /** Overrides merged over the test bindings, to run the app under other configuration. */
  env?: Partial<Env>;
}

/** Calls the app inside workerd with the real bindings, and waits for its deferred work. */
export async function call(path: string, opts: CallOptions = {}): Promise<Response> {
  const headers = new Headers(opts.headers);
  if (opts.token) headers.set("authorization", `Bearer ${opts.token}`);
  let body = opts.body;
  if (opts.json !== undefined) {
    headers.set("content-type", "application/json");
    body = JSON.stringify(opts.json);
  }
  const ctx = createExecutionContext();
  const res = await app.request(path, { ...opts, headers, body }, { ...env, ...opts.env }, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

export interface TestTenant {
  tenantId: string;
  apiKey: string;
  keyId: string;
}

let counter = 0;

/** Every test gets its own tenant, created through the real API. */
export async function newTenant(name = `tenant-${++counter}-${crypto.randomUUID().slice(0, 8)}`): Promise<TestTenant> {
  const res = await call("/v1/tenants", { method: "POST", token: ADMIN_SECRET, json: { name } });
  expect(res.status, await res.clone().text()).toBe(201);
  const body = (await res.json()) as { tenant: { id: string }; api_key: { id: string; key: string } };
  return { tenantId: body.tenant.id, apiKey: body.api_key.key, keyId: body.api_key.id };
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  request_id: string;
  errors?: { field: string; message: string }[];
  [k: string]: unknown;
}

/** Asserts the RFC 9457 shape every error shares, and returns the body for further checks. */
export async function expectProblem(res: Response, status: number, code: string): Promise<Problem> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(res.headers.get("content-type")).toBe("application/problem+json");
  const body = JSON.parse(text) as Problem;
  expect(body).toMatchObject({ status, code, type: `urn:herald:problem:${code}` });
  expect(typeof body.title).toBe("string");
  expect(body.detail.length).toBeGreaterThan(0);
  expect(body.request_id).toBe(res.headers.get("x-request-id"));
  expect(text).not.toMatch(/\bat .*\.(ts|js):\d+/); // no stack frames
  return body;
}

const SIGN_ALGS = {
  RS256: { import: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, sign: { name: "RSASSA-PKCS1-v1_5" } },
  ES256: { import: { name: "ECDSA", namedCurve: "P-256" }, sign: { name: "ECDSA", hash: "SHA-256" } },
} as const;

/** Mints a token as a real issuer would: HS256 with a secret, or RS256/ES256 with a private JWK. */
export async function mintJwt(
  claims: Record<string, unknown>,
  key: { alg: "HS256"; secret: string } | { alg: "RS256" | "ES256"; jwk: JsonWebKey; kid?: string } | { alg: "none" },
  headerExtra: Record<string, unknown> = {},
): Promise<string> {
  const header = { alg: key.alg, typ: "JWT", ...("kid" in key && key.kid ? { kid: key.kid } : {}), ...headerExtra };
  const input = `${base64url(utf8(JSON.stringify(header)))}.${base64url(utf8(JSON.stringify(claims)))}`;
  if (key.alg === "none") return `${input}.`;
  let sig: ArrayBuffer;
  if (key.alg === "HS256") {
    const k = await crypto.subtle.importKey("raw", utf8(key.secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    sig = await crypto.subtle.sign("HMAC", k, utf8(input));
  } else {
    const params = SIGN_ALGS[key.alg];
    const k = await crypto.subtle.importKey("jwk", key.jwk, params.import, false, ["sign"]);
    sig = await crypto.subtle.sign(params.sign, k, utf8(input));
  }
  return `${input}.${base64url(new Uint8Array(sig))}`;
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** The identity-provider settings the JWT tests run with. */
export const IDP = { JWT_ISSUER: "https://idp.test", JWT_AUDIENCE: "herald-api" };

/** The claims of a valid identity-provider token for `tenantId`, admin role, valid for 5 minutes. */
export function idpClaims(tenantId: string, extra: Record<string, unknown> = {}) {
  const now = nowSeconds();
  return {
    iss: IDP.JWT_ISSUER,
    aud: IDP.JWT_AUDIENCE,
    sub: crypto.randomUUID(),
    tid: tenantId,
    role: "admin",
    iat: now,
    exp: now + 300,
    ...extra,
  };
}

/** Runs `work` with a database handle of its own, closed afterwards. */
export async function withDb<T>(work: (db: Db) => Promise<T>): Promise<T> {
  const handle = openDb(env);
  try {
    return await work(handle.db);
  } finally {
    await handle.close();
  }
}
