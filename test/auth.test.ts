import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { apiKeys } from "../src/db/schema";
import { openDb } from "../src/services/db";
import { call, expectProblem, jwksInfo, mintJwt, newTenant, nowSeconds, IDP, idpClaims } from "./helpers";

// Identity-provider tokens: HS256 under IDP_JWT_SECRET (never JWT_SECRET, which signs only
// herald's own session tokens), with the issuer and audience herald is configured to expect.
const SECRET = env.IDP_JWT_SECRET;

async function listKeys(token: string, overrides?: Partial<Env>) {
  return call("/v1/api-keys", { token, env: { ...IDP, ...overrides } });
}

async function expectUnauthorized(res: Response, detail?: RegExp) {
  const body = await expectProblem(res, 401, "unauthorized");
  expect(res.headers.get("www-authenticate")).toMatch(/^Bearer /);
  if (detail) expect(body.detail).toMatch(detail);
}

describe("POST /v1/auth/token", () => {
  it("exchanges an API key for a short-lived JWT that authenticates", async () => {
    const { apiKey, tenantId } = await newTenant();
    const res = await call("/v1/auth/token", { method: "POST", token: apiKey });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const body = (await res.json()) as { access_token: string; token_type: string; expires_in: number; scopes: string[] };
    expect(body).toMatchObject({ token_type: "Bearer", expires_in: 900, scopes: ["*"] });
    const [, payload] = body.access_token.split(".");
    const claims = JSON.parse(atob(payload!.replace(/-/g, "+").replace(/_/g, "/")));
    expect(claims).toMatchObject({ iss: "herald", aud: "herald", tid: tenantId });
    expect(claims.exp - claims.iat).toBe(900);
    expect((await listKeys(body.access_token)).status).toBe(200);
  });

  it("refuses to exchange a JWT (only keys can be exchanged)", async () => {
    const { tenantId } = await newTenant();
    const jwt = await mintJwt(idpClaims(tenantId), { alg: "HS256", secret: SECRET });
    await expectProblem(await call("/v1/auth/token", { method: "POST", token: jwt, env: IDP }), 403, "forbidden");
  });

  it("refuses a revoked key", async () => {
    const { apiKey, keyId } = await newTenant();
    expect((await call(`/v1/api-keys/${keyId}`, { method: "DELETE", token: apiKey })).status).toBe(200);
    await expectUnauthorized(await call("/v1/auth/token", { method: "POST", token: apiKey }), /revoked/);
  });

  it("keeps working when caller JWTs are RS256 through JWKS", async () => {
    const { apiKey } = await newTenant();
    const rs = { JWT_ALG: "RS256", JWKS_URL: jwksInfo().url };
    const res = await call("/v1/auth/token", { method: "POST", token: apiKey, env: rs });
    const { access_token } = (await res.json()) as { access_token: string };
    expect((await listKeys(access_token, rs)).status).toBe(200);
  });
});

describe("API key authentication", () => {
  it("refuses a missing, non-Bearer or malformed credential", async () => {
    await expectUnauthorized(await call("/v1/api-keys"), /missing/);
    await expectUnauthorized(await call("/v1/api-keys", { headers: { authorization: "Basic dXNlcjpwYXNz" } }));
    await expectUnauthorized(await listKeys("hk_short"), /malformed/);
    await expectUnauthorized(await listKeys(`hk_${"A".repeat(43)}`), /unknown/);
  });

  it("refuses a revoked key at once and an expired key", async () => {
    const { apiKey, keyId } = await newTenant();
    expect((await listKeys(apiKey)).status).toBe(200);
    await call(`/v1/api-keys/${keyId}`, { method: "DELETE", token: apiKey });
    await expectUnauthorized(await listKeys(apiKey), /revoked/);

    const other = await newTenant();
    const handle = openDb(env);
    await handle.db
      .update(apiKeys)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(apiKeys.id, other.keyId));
    await handle.close();
    await expectUnauthorized(await listKeys(other.apiKey), /expired/);
  });
});

describe("JWT verification (HS256 configured)", () => {
  it("accepts a tenant user's token and scopes it to that tenant", async () => {
    const a = await newTenant();
    await newTenant();
    const jwt = await mintJwt(idpClaims(a.tenantId), { alg: "HS256", secret: SECRET });
    const res = await listKeys(jwt);
    expect(res.status).toBe(200);
    const { data } = (await res.json()) as { data: { id: string }[] };
    expect(data.map((k) => k.id)).toEqual([a.keyId]);
  });

  it('refuses alg "none"', async () => {
    const { tenantId } = await newTenant();
    await expectUnauthorized(await listKeys(await mintJwt(idpClaims(tenantId), { alg: "none" })), /algorithm/);
  });

  it("refuses an algorithm other than the configured one", async () => {
    const { tenantId } = await newTenant();
    const { rsaPrivate } = jwksInfo();
    const rs = await mintJwt(idpClaims(tenantId), { alg: "RS256", jwk: rsaPrivate, kid: "rsa-1" });
    await expectUnauthorized(await listKeys(rs), /algorithm/);
  });

  it("refuses a bad signature, including a forged herald issuer", async () => {
    const { tenantId } = await newTenant();
    const wrong = "another-secret-that-is-long-enough-0123456789";
    await expectUnauthorized(await listKeys(await mintJwt(idpClaims(tenantId), { alg: "HS256", secret: wrong })), /signature/);
    const forged = await mintJwt(idpClaims(tenantId, { iss: "herald", scopes: ["*"] }), { alg: "HS256", secret: wrong });
    await expectUnauthorized(await listKeys(forged), /signature/);
    const valid = await mintJwt(idpClaims(tenantId), { alg: "HS256", secret: SECRET });
    const [h, p, s] = valid.split(".");
    const flipped = `${h}.${p}.${s!.startsWith("A") ? "B" : "A"}${s!.slice(1)}`;
    await expectUnauthorized(await listKeys(flipped), /signature|malformed/);
  });

  it("a token verified once is not honoured under a configuration that would refuse it", async () => {
    const { tenantId } = await newTenant();
    const jwt = await mintJwt(idpClaims(tenantId), { alg: "HS256", secret: SECRET });
    expect((await listKeys(jwt)).status).toBe(200);
    await expectUnauthorized(await listKeys(jwt, { JWT_AUDIENCE: "someone-else" }), /audience/);
    await expectUnauthorized(await listKeys(jwt, { IDP_JWT_SECRET: "a-rotated-secret-that-is-long-enough-0123456789" }), /signature/);
    expect((await listKeys(jwt)).status).toBe(200);
  });

  it("checks exp and nbf with a small clock skew", async () => {
    const { tenantId } = await newTenant();
    const now = nowSeconds();
    const expired = await mintJwt(idpClaims(tenantId, { exp: now - 120 }), { alg: "HS256", secret: SECRET });
    await expectUnauthorized(await listKeys(expired), /expired/);
    const justExpired = await mintJwt(idpClaims(tenantId, { exp: now - 5 }), { alg: "HS256", secret: SECRET });
    expect((await listKeys(justExpired)).status).toBe(200);
    const notYet = await mintJwt(idpClaims(tenantId, { nbf: now + 600 }), { alg: "HS256", secret: SECRET });
    await expectUnauthorized(await listKeys(notYet), /not yet valid/);
    const noExp = await mintJwt(
      { iss: IDP.JWT_ISSUER, aud: IDP.JWT_AUDIENCE, sub: "u", tid: tenantId, role: "admin" },
      { alg: "HS256", secret: SECRET },
    );
    await expectUnauthorized(await listKeys(noExp), /exp/);
  });

  it("refuses a token without a valid tenant claim", async () => {
    const { tenantId } = await newTenant();
    const claims = idpClaims(tenantId) as Record<string, unknown>;
    delete claims.tid;
    await expectUnauthorized(await listKeys(await mintJwt(claims, { alg: "HS256", secret: SECRET })), /tenant/);
    const bad = await mintJwt(idpClaims("'; drop table tenants; --"), { alg: "HS256", secret: SECRET });
    await expectUnauthorized(await listKeys(bad), /tenant/);
  });

  it("requires the configured iss and aud", async () => {
    const { tenantId } = await newTenant();
    const cfg = { JWT_ISSUER: "https://idp.example", JWT_AUDIENCE: "herald-api" };
    const good = await mintJwt(idpClaims(tenantId, { iss: cfg.JWT_ISSUER, aud: ["x", cfg.JWT_AUDIENCE] }), {
      alg: "HS256",
      secret: SECRET,
    });
    expect((await listKeys(good, cfg)).status).toBe(200);
    const wrongIss = await mintJwt(idpClaims(tenantId, { iss: "https://evil.example", aud: cfg.JWT_AUDIENCE }), {
      alg: "HS256",
      secret: SECRET,
    });
    await expectUnauthorized(await listKeys(wrongIss, cfg), /issuer/);
    const wrongAud = await mintJwt(idpClaims(tenantId, { iss: cfg.JWT_ISSUER, aud: "other" }), { alg: "HS256", secret: SECRET });
    await expectUnauthorized(await listKeys(wrongAud, cfg), /audience/);
    const noIss = await mintJwt(idpClaims(tenantId, { iss: undefined }), { alg: "HS256", secret: SECRET });
    await expectUnauthorized(await listKeys(noIss, cfg), /issuer/);
    const noAud = await mintJwt(idpClaims(tenantId, { iss: cfg.JWT_ISSUER, aud: undefined }), { alg: "HS256", secret: SECRET });
    await expectUnauthorized(await listKeys(noAud, cfg), /audience/);
  });

  it("refuses garbage tokens without a 500", async () => {
    for (const token of ["abc", "a.b", "a.b.c.d", "!!!.###.$$$", "eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.c2ln", "x".repeat(9000)]) {
      await expectUnauthorized(await listKeys(token));
    }
  });
});

describe("JWT verification through JWKS (RS256 / ES256 configured)", () => {
  const rs = () => ({ ...IDP, JWT_ALG: "RS256", JWKS_URL: jwksInfo().url });

  it("accepts an RS256 token signed by a key in the set", async () => {
    const { tenantId } = await newTenant();
    const jwt = await mintJwt(idpClaims(tenantId), { alg: "RS256", jwk: jwksInfo().rsaPrivate, kid: "rsa-1" });
    expect((await listKeys(jwt, rs())).status).toBe(200);
  });

  it("refuses HS/RS confusion: an HS256 token keyed with the RSA public key", async () => {
    const { tenantId } = await newTenant();
    const pub = jwksInfo().rsaPublic;
    for (const secret of [JSON.stringify(pub), pub.n!]) {
      const jwt = await mintJwt(idpClaims(tenantId), { alg: "HS256", secret });
      await expectUnauthorized(await listKeys(jwt, rs()), /algorithm/);
    }
  });

  it("refuses a token signed by a key outside the set, or naming an unknown kid", async () => {
    const { tenantId } = await newTenant();
    const stranger = await mintJwt(idpClaims(tenantId), { alg: "RS256", jwk: jwksInfo().strangerRsaPrivate, kid: "rsa-1" });
    await expectUnauthorized(await listKeys(stranger, rs()), /signature/);
    const unknownKid = await mintJwt(idpClaims(tenantId), { alg: "RS256", jwk: jwksInfo().rsaPrivate, kid: "nope" });
    await expectUnauthorized(await listKeys(unknownKid, rs()), /key/);
  });

  it("answers 503, not 401, when the key set cannot be fetched", async () => {
    const { tenantId } = await newTenant();
    const jwt = await mintJwt(idpClaims(tenantId), { alg: "RS256", jwk: jwksInfo().rsaPrivate, kid: "rsa-1" });
    await expectProblem(await listKeys(jwt, { ...rs(), JWKS_URL: jwksInfo().brokenUrl }), 503, "service_unavailable");
  });

  it("accepts ES256 when configured, and then refuses RS256", async () => {
    const { tenantId } = await newTenant();
    const es = { ...IDP, JWT_ALG: "ES256", JWKS_URL: jwksInfo().url };
    const esJwt = await mintJwt(idpClaims(tenantId), { alg: "ES256", jwk: jwksInfo().ecPrivate, kid: "ec-1" });
    expect((await listKeys(esJwt, es)).status).toBe(200);
    const rsJwt = await mintJwt(idpClaims(tenantId), { alg: "RS256", jwk: jwksInfo().rsaPrivate, kid: "rsa-1" });
    await expectUnauthorized(await listKeys(rsJwt, es), /algorithm/);
  });
});

describe("scopes", () => {
  it("a member-role JWT reads but cannot write", async () => {
    const { tenantId } = await newTenant();
    const jwt = await mintJwt(idpClaims(tenantId, { role: "member" }), { alg: "HS256", secret: SECRET });
    expect((await listKeys(jwt)).status).toBe(200);
    await expectProblem(await call("/v1/api-keys", { method: "POST", token: jwt, json: { name: "x" }, env: IDP }), 403, "forbidden");
  });

  it("a token with no role or scopes can do nothing", async () => {
    const { tenantId } = await newTenant();
    const jwt = await mintJwt(idpClaims(tenantId, { role: undefined }), { alg: "HS256", secret: SECRET });
    await expectProblem(await listKeys(jwt), 403, "forbidden");
  });
});
