// The route-security suite: every operation of herald's OpenAPI document, read from the document
// itself so a route added tomorrow is covered tomorrow. For every bearer operation: no credentials
// is 401 with WWW-Authenticate; a key without the scope the operation declares is 403 (the scope is
// published from the route's requireScope middleware, and an operation declaring none fails unless
// allow-listed below); another tenant's id in the path is 404, never 403 or 200, and the owner's
// resource is unchanged. Admin-secret and public operations get the checks that apply to them.
// Every refusal is problem+json. Helpers: test/security/ (routes, fixtures, attack requests).
import { beforeAll, describe, expect, it } from "vitest";
import { grants, SCOPES, type Scope } from "../src/auth/scopes";
import { ADMIN_SECRET, expectProblem, newTenant, type TestTenant } from "./helpers";
import { FIXTURES, send, TenantResources } from "./security/fixtures";
import { attackRequest } from "./security/requests";
import { fillPath, kindOf, NOWHERE, operations, type Operation } from "./security/routes";

const OPERATIONS = operations();
const bearer = OPERATIONS.filter((op) => op.auth === "bearer");
const scoped = bearer.filter((op) => op.scopes.length > 0);
const withIds = bearer.filter((op) => op.params.length > 0);
const admin = OPERATIONS.filter((op) => op.auth === "admin");
const KEY_SCOPES = SCOPES.filter((s) => s !== "*");

let owner: TestTenant;
let stranger: TestTenant;
/** The owner's keys holding one scope each. */
const keyFor = new Map<Scope, string>();

beforeAll(async () => {
  [owner, stranger] = [await newTenant(), await newTenant()];
  for (const scope of KEY_SCOPES) {
    const res = await send("/v1/api-keys", { method: "POST", token: owner.apiKey, json: { name: scope, scopes: [scope] } });
    expect(res.status, await res.clone().text()).toBe(201);
    keyFor.set(scope, ((await res.json()) as { key: string }).key);
  }
});

/**
 * Bearer operations that declare no scope because any valid credential of the tenant may call
 * them; each with why, and a check of exactly that. Anything else without a scope fails the test.
 */
const ANY_CREDENTIAL: Record<string, { why: string; check: () => Promise<void> }> = {
  "POST /v1/auth/token": {
    why: "exchanges the calling API key itself for a short-lived JWT carrying the key's own scopes, no more",
    check: async () => {
      const res = await send("/v1/auth/token", { method: "POST", token: keyFor.get("contacts:read")! });
      expect(res.status, await res.clone().text()).toBe(200);
      expect(((await res.json()) as { scopes: string[] }).scopes).toEqual(["contacts:read"]);
    },
  },
};

/** Operations that take no credential at all; each with what guards it instead, and a check of that. */
const PUBLIC: Record<string, { why: string; check: () => Promise<void> }> = {
  "GET /health": {
    why: "the liveness probe: says only that the worker answers",
    check: async () => expect(await (await send("/health")).json()).toEqual({ status: "ok" }),
  },
  "GET /ready": {
    why: "the readiness probe: names the dependencies it checks and whether each is up, nothing of any tenant's",
    check: async () => expect(await (await send("/ready")).json()).toMatchObject({ status: "ready" }),
  },
  "POST /v1/webhooks/inbound/{provider_id}": {
    why: "providers call it with their own signature, checked against the secret stored on the provider",
    check: async () => {
      const provider = await send("/v1/providers", {
        method: "POST",
        token: owner.apiKey,
        json: {
          name: "inbound",
          kind: "resend",
          credentials: { api_key: "re_test", webhook_secret: `whsec_${btoa("0123456789abcdef0123456789abcdef")}` },
        },
      });
      expect(provider.status, await provider.clone().text()).toBe(201);
      const { id } = (await provider.json()) as { id: string };
      const post = (path: string, token?: string) =>
        send(path, { method: "POST", token, headers: { "content-type": "application/json" }, body: '{"type":"email.delivered"}' });
      // Unsigned is 401, and the tenant's own full-scope key is no substitute for the signature.
      for (const token of [undefined, owner.apiKey]) {
        const problem = await expectProblem(await post(`/v1/webhooks/inbound/${id}`, token), 401, "unauthorized");
        expect(problem.detail).toBe("missing signature headers");
      }
      await expectProblem(await post(`/v1/webhooks/inbound/${NOWHERE}`), 404, "not_found");
    },
  },
};

describe("route security: what every operation declares", () => {
  it("covers every operation of the OpenAPI document, and each says how it is authenticated", () => {
    expect(OPERATIONS.length).toBeGreaterThan(60);
    expect(withIds.length).toBeGreaterThan(35);
    const undeclared = bearer.filter((op) => op.scopes.length === 0 && !(op.key in ANY_CREDENTIAL)).map((op) => op.key);
    expect(undeclared, "bearer operations without requireScope(...) in their createRoute middleware").toEqual([]);
    const unguarded = OPERATIONS.filter((op) => op.auth === "none" && !(op.key in PUBLIC)).map((op) => op.key);
    expect(unguarded, "operations without any security: add it, or allow-list them in PUBLIC with why").toEqual([]);
    for (const op of scoped) for (const scope of op.scopes) expect(SCOPES, op.key).toContain(scope);
    // The allow-lists name only operations that exist and still need listing.
    const byKey = new Map(OPERATIONS.map((op) => [op.key, op]));
    for (const key of Object.keys(ANY_CREDENTIAL)) expect(byKey.get(key), key).toMatchObject({ auth: "bearer", scopes: [] });
    for (const key of Object.keys(PUBLIC)) expect(byKey.get(key), key).toMatchObject({ auth: "none" });
    // Every kind of id in a path has a factory, so every such operation gets its isolation check.
    const kinds = new Set(withIds.flatMap((op) => op.params.map((p) => kindOf(op.path, p))));
    expect(
      [...kinds].filter((kind) => !FIXTURES[kind]),
      "resource kinds without a fixture in test/security/fixtures.ts",
    ).toEqual([]);
  });

  it("publishes each operation's scope in /openapi.json and on /docs", async () => {
    const doc = (await (await send("/openapi.json")).json()) as { paths: Record<string, Record<string, { security?: unknown }>> };
    expect(doc.paths["/v1/contacts/{id}"]!.patch!.security).toEqual([{ bearerAuth: ["contacts:write"] }]);
    expect(doc.paths["/v1/auth/token"]!.post!.security).toEqual([{ bearerAuth: [] }]);
    const html = await (await send("/docs")).text();
    expect(html).toContain("auth: bearerAuth (campaigns:write)");
  });

  for (const [key, { why, check }] of Object.entries({ ...ANY_CREDENTIAL, ...PUBLIC })) {
    it(`${key}: ${why}`, check);
  }
});

const anyPath = (op: Operation) => fillPath(op, () => NOWHERE);

describe("route security: no credentials is 401 problem+json with WWW-Authenticate", () => {
  for (const op of bearer) {
    it(op.key, async () => {
      for (const token of [undefined, "hk_not_a_real_key", "not.a.jwt"]) {
        const res = await send(anyPath(op), { method: op.method, token });
        await expectProblem(res, 401, "unauthorized");
        expect(res.headers.get("www-authenticate")).toMatch(/^Bearer realm="herald"/);
      }
    });
  }
  for (const op of admin) {
    it(`${op.key} (admin secret): missing, wrong, or a tenant's full-scope key`, async () => {
      for (const token of [undefined, `${ADMIN_SECRET}x`, owner.apiKey]) {
        const res = await send(anyPath(op), { method: op.method, token, json: { name: "never-created" } });
        await expectProblem(res, 401, "unauthorized");
        expect(res.headers.get("www-authenticate")).toMatch(/^Bearer realm="herald-admin"/);
      }
    });
  }
});

describe("route security: a key without the declared scope is 403 problem+json", () => {
  for (const op of scoped) {
    it(`${op.key} needs ${op.scopes.join(" and ")}`, async () => {
      const lacking = KEY_SCOPES.filter((held) => op.scopes.some((wanted) => !grants([held], wanted as Scope)));
      expect(lacking.length).toBeGreaterThan(0);
      for (const held of lacking) {
        const res = await send(anyPath(op), { method: op.method, token: keyFor.get(held)! });
        const problem = await expectProblem(res, 403, "forbidden");
        expect(problem.detail, `${op.key} with only ${held}`).toMatch(/lacks the .+ scope/);
      }
      // The declared scope is enough: the document does not understate what the route wants.
      if (op.scopes.length === 1) {
        const res = await send(anyPath(op), { method: op.method, token: keyFor.get(op.scopes[0] as Scope)! });
        expect([401, 403], `${op.key} with ${op.scopes[0]}: ${res.status} ${await res.text()}`).not.toContain(res.status);
      }
    });
  }
});

describe("route security: another tenant's id is 404 problem+json, and the owner's resource is unchanged", () => {
  let mine: TenantResources;
  let theirs: TenantResources;
  beforeAll(() => {
    mine = new TenantResources(owner);
    theirs = new TenantResources(stranger);
  });

  for (const op of withIds) {
    it(op.key, { timeout: 60_000 }, async () => {
      const request = attackRequest(op);
      if (typeof request === "string") throw new Error(request);
      const kinds = op.params.map((p) => kindOf(op.path, p));
      for (const kind of kinds) await mine.need(kind);
      // Every id the owner's; then, for a path of several ids, each one alone among the caller's own
      // (B's list with A's contact, B's endpoint with A's delivery).
      const mixes: ((kind: string) => string)[] = [mine.id];
      if (kinds.length > 1) {
        for (const kind of kinds) await theirs.need(kind);
        for (const stolen of kinds) mixes.push((kind) => (kind === stolen ? mine.id(kind) : theirs.id(kind)));
      }
      const before = await mine.snapshot(kinds);
      for (const { status } of Object.values(before)) expect(status).toBe(200);
      for (const id of mixes) {
        const path = fillPath(op, id);
        const res = await send(path, {
          method: op.method,
          token: stranger.apiKey,
          json: request.json?.(mine.id),
          headers: request.headers,
        });
        await expectProblem(res, 404, "not_found");
      }
      expect(await mine.snapshot(kinds), `${op.key} changed the owner's resource`).toEqual(before);
    });
  }
});
