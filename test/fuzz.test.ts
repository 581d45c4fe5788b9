// The fuzz suite: hostile requests over every operation in herald's OpenAPI document, plus the
// public routes outside it. Whatever is sent, herald answers below 500; every 4xx is problem+json;
// no response carries a secret, and no error carries a stack or SQL. The seed is fixed and the
// cases bounded, so CI runs the same requests every time; change FUZZ_SEED locally to explore.
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { API_INFO } from "../src/app";
import { encodePart, fullSample, HOSTILE_STRINGS, hostileValue, nested, valueFor, type Schema } from "./fuzz/arbitraries";
import { ADMIN_SECRET, app, call, newTenant, type TestTenant } from "./helpers";

const FUZZ_SEED = 20261202;
const RUNS_PER_OPERATION = 16;

interface Operation {
  method: string;
  path: string;
  params: { name: string; in: string; schema?: Schema }[];
  body?: Schema;
  admin: boolean;
  /** A page a person opens in a browser (the unsubscribe page): its errors are HTML, not problem+json. */
  page?: boolean;
}

const doc = app.getOpenAPI31Document({ openapi: "3.1.0", info: API_INFO }) as unknown as {
  paths: Record<
    string,
    Record<
      string,
      {
        parameters?: Operation["params"];
        requestBody?: { content: Record<string, { schema: Schema }> };
        security?: Record<string, unknown>[];
      }
    >
  >;
  components: { schemas: Record<string, Schema> };
};

const operations: Operation[] = Object.entries(doc.paths).flatMap(([path, item]) =>
  Object.entries(item).map(([method, op]) => ({
    method: method.toUpperCase(),
    path,
    params: op.parameters ?? [],
    body: op.requestBody?.content["application/json"]?.schema,
    admin: JSON.stringify(op.security ?? []).includes("adminSecret"),
  })),
);
// Routes outside the OpenAPI document that take input from anyone on the internet.
operations.push(
  { method: "GET", path: "/t/o/{token}", params: [{ name: "token", in: "path" }], admin: false },
  { method: "GET", path: "/t/c/{token}", params: [{ name: "token", in: "path" }], admin: false },
  { method: "GET", path: "/u/{token}", params: [{ name: "token", in: "path" }], admin: false, page: true },
  { method: "POST", path: "/u/{token}", params: [{ name: "token", in: "path" }], admin: false, page: true },
);

const SECRETS = ["JWT_SECRET", "IDP_JWT_SECRET", "ADMIN_SECRET", "TRACKING_SECRET", "ENCRYPTION_KEY", "DATABASE_URL"]
  .map((k) => (env as unknown as Record<string, string | undefined>)[k])
  .filter((v): v is string => !!v && v.length >= 8);
const STACK = /\bat [^\n"]*\.(?:ts|js|mjs):\d+|node_modules\/|\.ts:\d+:\d+/;
const SQL =
  /syntax error at or near|violates [a-z-]+ constraint|duplicate key value|invalid input syntax for|\brelation "\w+"|\bcolumn "\w+"|\bSELECT\b[\s\S]{0,200}\bFROM\b|\bINSERT INTO\b|NeonDbError|DrizzleQueryError|Failed query/i;

// Far above anything the suite sends: these runs are about input, not rate. Under overridden rules
// the limiter keys its counts apart, so the garbage credentials sent here lock no one else out.
const BIG = { limit: 1_000_000, windowSeconds: 60 };
const NO_RATE_LIMITS = JSON.stringify({
  ip: BIG,
  free: { read: BIG, send: BIG },
  auth: { token: { ip: BIG, ipFailures: BIG, account: BIG }, signup: { ip: BIG, ipFailures: BIG } },
});
// Identity-provider tokens fully configured, so a garbage JWT is judged (401) rather than found
// unverifiable (503, the operator's misconfiguration).
const FUZZ_ENV = { RATE_LIMIT_OVERRIDES: NO_RATE_LIMITS, JWT_ISSUER: "https://idp.fuzz.test", JWT_AUDIENCE: "herald-fuzz" };

const BODY_TYPES = [
  "application/json",
  "application/json; charset=utf-8",
  "application/merge-patch+json",
  "text/plain",
  "text/csv",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "",
];
const DEEP = 10_000;
const RAW_BODIES = [
  "[".repeat(DEEP) + "]".repeat(DEEP),
  `${'{"a":'.repeat(DEEP)}1${"}".repeat(DEEP)}`,
  "",
  "{",
  "[1,]",
  "nul",
  '"\\ud800"',
  '{"a":1}{',
  "[".repeat(40) + "]".repeat(40),
  "null",
  "1",
  "[]",
  "{}",
  '{"__proto__":{"x":1}}',
  "\u0000",
  "a=b&c=d",
  "--x\r\nContent-Disposition: form-data; name=a\r\n\r\nb\r\n--x--",
];
const AUTH = [
  "none",
  "Bearer",
  "Bearer hk_garbage",
  "Bearer a.b.c",
  "Basic eDp5",
  `Bearer ${"x".repeat(9000)}`,
  "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
];

let tenant: TestTenant;
const ids: Record<string, string[]> = {};

beforeAll(async () => {
  tenant = await newTenant();
  const make = async (path: string, json: unknown) => {
    const res = await call(path, { method: "POST", token: tenant.apiKey, json });
    expect(res.status, await res.clone().text()).toBeLessThan(300);
    return ((await res.json()) as { id: string }).id;
  };
  ids.lists = [await make("/v1/lists", { name: "fuzz" })];
  ids.contacts = [await make("/v1/contacts", { email: "fuzz@example.test" })];
  ids.templates = [await make("/v1/templates", { name: "t", subject: "s {{name}}", html: "<p>{{name}}</p>" })];
  ids["api-keys"] = [await make("/v1/api-keys", { name: "k" })];
});

/** Path parameter values: the tenant's real ids for the resource, random ids, and hostile strings. */
function pathValue(path: string): fc.Arbitrary<string> {
  const resource = path.split("/")[2] ?? "";
  return fc.oneof(
    { weight: 3, arbitrary: ids[resource]?.length ? fc.constantFrom(...ids[resource]) : fc.uuid() },
    { weight: 2, arbitrary: fc.uuid() },
    { weight: 2, arbitrary: fc.constantFrom(...HOSTILE_STRINGS.filter((s) => s !== "")) },
    { weight: 1, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 30 }) },
  );
}

function requestFor(op: Operation) {
  const pathParams = Object.fromEntries(op.params.filter((p) => p.in === "path").map((p) => [p.name, pathValue(op.path)]));
  const query = fc.array(
    fc.tuple(
      fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom(...op.params.filter((p) => p.in === "query").map((p) => p.name), "unknown") },
        { weight: 1, arbitrary: fc.constantFrom(...HOSTILE_STRINGS.slice(0, 20)) },
      ),
      fc.oneof(fc.constantFrom("1", "100", "101", "-1", "abc", "true"), fc.constantFrom(...HOSTILE_STRINGS).map(String)),
    ),
    { maxLength: 4 },
  );
  const body = op.body
    ? fc.oneof(
        {
          weight: 8,
          arbitrary: valueFor(op.body, doc.components.schemas).map((v) => ({
            type: "application/json",
            text: JSON.stringify(v) ?? "null",
          })),
        },
        { weight: 1, arbitrary: fc.record({ type: fc.constantFrom(...BODY_TYPES), text: fc.constantFrom(...RAW_BODIES) }) },
        { weight: 1, arbitrary: hostileValue.map((v) => ({ type: "application/json", text: JSON.stringify(v) ?? "null" })) },
      )
    : fc.oneof(
        { weight: 4, arbitrary: fc.constant(undefined) },
        { weight: 1, arbitrary: fc.record({ type: fc.constantFrom(...BODY_TYPES), text: fc.constantFrom(...RAW_BODIES) }) },
      );
  const auth = fc.oneof({ weight: 6, arbitrary: fc.constant("valid") }, { weight: 1, arbitrary: fc.constantFrom(...AUTH) });
  return fc.record({ pathParams: fc.record(pathParams), query, body, auth });
}

type Generated = ReturnType<typeof requestFor> extends fc.Arbitrary<infer T> ? T : never;

/** Every string in a value (keys too) made hostile by `spoil`. */
function spoilStrings(value: unknown, spoil: (s: string) => string): unknown {
  if (typeof value === "string") return spoil(value);
  if (Array.isArray(value)) return value.map((v) => spoilStrings(v, spoil));
  if (value && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [spoil(k), spoilStrings(v, spoil)]));
  return value;
}

/** One copy of `value` per string in it (value or key), with only that string spoiled. */
function spoilEachString(value: unknown, spoil: (s: string) => string): unknown[] {
  if (typeof value === "string") return [spoil(value)];
  if (Array.isArray(value)) return value.flatMap((v, i) => spoilEachString(v, spoil).map((x) => value.map((y, j) => (j === i ? x : y))));
  if (value && typeof value === "object") {
    const entries = Object.entries(value);
    return entries.flatMap(([_k, v], i) => [
      Object.fromEntries(entries.map(([k2, v2], j) => [j === i ? spoil(k2) : k2, v2])),
      ...spoilEachString(v, spoil).map((x) => Object.fromEntries(entries.map(([k2, v2], j) => [k2, j === i ? x : v2]))),
    ]);
  }
  return [];
}

/** Every object or array `at` levels down replaced by `marker`. */
function spoilContainers(value: unknown, marker: string, at: number): unknown {
  if (value === null || typeof value !== "object") return value;
  if (at === 0) return marker;
  if (Array.isArray(value)) return value.map((v) => spoilContainers(v, marker, at - 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, spoilContainers(v, marker, at - 1)]));
}

/**
 * The fixed corpus run before the random cases: shapes that broke herald once (bodies nested
 * 10,000 deep, lone surrogates and NUL in every string and key of an otherwise plausible body).
 */
function examplesFor(op: Operation): [Generated][] {
  const pathParams = Object.fromEntries(
    op.params
      .filter((p) => p.in === "path")
      .map((p) => [p.name, ids[op.path.split("/")[2] ?? ""]?.[0] ?? "0190b1b2-7c1e-7a3b-9f00-0123456789ab"]),
  );
  const base = { pathParams, query: [] as [string, string][], auth: "valid" };
  if (!op.body) return [[{ ...base, body: undefined }]];
  const json = (v: unknown) => ({ type: "application/json", text: JSON.stringify(v) });
  const sample = fullSample(op.body, doc.components.schemas);
  // Every object or array one or two levels inside the body, replaced by one nested 10,000 deep.
  const deepAt = (at: number) => ({
    type: "application/json",
    text: JSON.stringify(spoilContainers(sample, "__DEEP__", at)).replaceAll('"__DEEP__"', RAW_BODIES[1]!),
  });
  return [
    { ...base, body: { type: "application/json", text: RAW_BODIES[0]! } },
    { ...base, body: { type: "application/json", text: RAW_BODIES[1]! } },
    { ...base, body: deepAt(1) },
    { ...base, body: deepAt(2) },
    { ...base, body: json(sample) },
    { ...base, body: json(spoilStrings(sample, (s) => `${s}\udc00x`)) },
    { ...base, body: json(spoilStrings(sample, (s) => `${s}\u0000`)) },
    ...spoilEachString(sample, (s) => `${s}\ud800`).map((v) => ({ ...base, body: json(v) })),
  ].map((g) => [g] as [Generated]);
}

async function send(op: Operation, req: Generated): Promise<{ res: Response; text: string; url: string }> {
  let url = op.path.replace(/\{(\w+)\}/g, (_, name: string) => encodePart(req.pathParams[name] ?? "x"));
  if (req.query.length) url += `?${req.query.map(([k, v]) => `${encodePart(k)}=${encodePart(v)}`).join("&")}`;
  const headers = new Headers();
  const secret = op.admin ? ADMIN_SECRET : tenant.apiKey;
  if (req.auth === "valid") headers.set("authorization", `Bearer ${secret}`);
  else if (req.auth !== "none") headers.set("authorization", req.auth);
  if (req.body?.type) headers.set("content-type", req.body.type);
  const hasBody = req.body !== undefined && op.method !== "GET";
  const res = await call(url, { method: op.method, headers, body: hasBody ? req.body!.text : undefined, env: FUZZ_ENV });
  return { res, text: await res.text(), url };
}

function check(op: Operation, { res, text, url }: { res: Response; text: string; url: string }) {
  const where = `${op.method} ${url.slice(0, 300)} → ${res.status} ${text.slice(0, 300)}`;
  expect(res.status, where).toBeLessThan(500);
  for (const secret of [...SECRETS, tenant.apiKey]) expect(text.includes(secret), `secret echoed: ${where}`).toBe(false);
  if (res.status < 400) return;
  expect(STACK.test(text), `stack in: ${where}`).toBe(false);
  expect(SQL.test(text), `SQL in: ${where}`).toBe(false);
  if (op.page) {
    expect(res.headers.get("content-type"), where).toMatch(/^text\/html/);
    return;
  }
  expect(res.headers.get("content-type"), where).toBe("application/problem+json");
  const problem = JSON.parse(text) as Record<string, unknown>;
  expect(problem, where).toMatchObject({
    status: res.status,
    type: expect.stringMatching(/^urn:herald:problem:/),
    title: expect.any(String),
    detail: expect.any(String),
    request_id: expect.any(String),
  });
}

describe("fuzzing every operation with hostile input", () => {
  it("covers every operation in the OpenAPI document", () => {
    expect(operations.length).toBeGreaterThan(60);
    expect(nested(3)).toEqual({ a: { a: { a: 1 } } });
  });

  for (const op of operations) {
    it(`${op.method} ${op.path}: never 5xx; 4xx are problem+json without secrets, stacks or SQL`, { timeout: 120_000 }, async () => {
      await fc.assert(
        fc.asyncProperty(requestFor(op), async (req) => check(op, await send(op, req))),
        { seed: FUZZ_SEED, numRuns: RUNS_PER_OPERATION, endOnFailure: true, examples: examplesFor(op) },
      );
    });
  }
});
