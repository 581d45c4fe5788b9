import { and, eq, isNull } from "drizzle-orm";
import { authConfig, ConfigError, type AuthConfig } from "../config";
import { apiKeys } from "../db/schema";
import type { Credential, Principal } from "./principal";
import { HeraldError } from "../errors";
import { isUuid } from "../lib/ids";
import { TtlCache } from "../lib/ttl-cache";
import type { Cache } from "../services/cache";
import type { Db } from "../services/db";
import { getTenant } from "../services/tenants";
import { hashApiKey, isWellFormedApiKey, looksLikeApiKey } from "./api-keys";
import { JwksResolver } from "./jwks";
import { hmacSecret, JwtError, unverifiedClaims, verifyJwt, type JwtClaims } from "./jwt";
import { isScope, ROLES, scopesForRole, type Role, type Scope } from "./scopes";

/** The issuer and audience of the short-lived session tokens POST /v1/auth/token hands out. */
export const HERALD_ISSUER = "herald";
export const HERALD_AUDIENCE = "herald";
export const SESSION_TTL_SECONDS = 900;
const LAST_USED_GRANULARITY_MS = 5 * 60_000;

export interface AuthDeps {
  env: Env;
  db: Db;
  cache: Cache;
  /** Schedules best-effort work after the response. */
  defer: (task: Promise<unknown>) => void;
}

export function unauthorized(detail: string): HeraldError {
  return new HeraldError("unauthorized", detail, {
    headers: { "www-authenticate": `Bearer realm="herald", error="invalid_token"` },
  });
}

export function bearerToken(header: string | undefined): string {
  if (!header) throw unauthorized("missing Authorization header");
  const match = /^Bearer[ ]+([^\s]+)[ ]*$/i.exec(header);
  if (!match) throw unauthorized("Authorization must be 'Bearer <token>'");
  return match[1]!;
}

export async function authenticate(token: string, deps: AuthDeps): Promise<Principal> {
  const credential = looksLikeApiKey(token) ? await authenticateApiKey(token, deps) : await authenticateJwt(token, deps);
  // A credential can outlive its tenant: a JWT names any tenant id its issuer likes, and a cached
  // key lookup survives the tenant's removal. Checked on every request, after the verdict caches.
  const tenant = await getTenant(deps.db, deps.cache, credential.tenantId);
  if (!tenant) throw unauthorized("the credential's tenant does not exist");
  return { ...credential, plan: tenant.plan };
}

/** What the cache keeps of an API key: enough to authenticate, never the key itself. */
interface CachedKey {
  id: string;
  tenantId: string;
  scopes: string[];
  expiresAt: string | null;
  revokedAt: string | null;
}

/**
 * How long a key lookup is cached. Revoking deletes the entry. On Upstash the memory layer is
 * skipped for keys, so a revocation takes effect at once; on KV, whose own propagation is the
 * larger term anyway, a key may stay in another isolate's memory for 5 s on top of KV's read cache
 * (30 s), so a revocation takes effect everywhere within 35 s (at once in the revoking isolate).
 */
export const API_KEY_CACHE_SECONDS = 300;
export const apiKeyCacheKey = (hash: string) => `apikey:${hash}`;

/** Per isolate: the keys whose last_used_at was written lately, so it is written at most every 5 minutes. */
const lastUsedWrites = new TtlCache<true>(10_000, LAST_USED_GRANULARITY_MS);

async function authenticateApiKey(token: string, { db, cache, defer }: AuthDeps): Promise<Credential> {
  if (!isWellFormedApiKey(token)) throw unauthorized("malformed API key");
  const hash = await hashApiKey(token);
  const cacheKey = apiKeyCacheKey(hash);
  let entry = await cache.get<CachedKey | { missing: true }>(cacheKey, { memory: cache.backend === "kv" }).catch(() => undefined);
  if (!entry) {
    const [row] = await db
      .select({
        id: apiKeys.id,
        tenantId: apiKeys.tenantId,
        scopes: apiKeys.scopes,
        expiresAt: apiKeys.expiresAt,
        revokedAt: apiKeys.revokedAt,
      })
      .from(apiKeys)
      .where(eq(apiKeys.keyHash, hash))
      .limit(1);
    // Keys carry 256 random bits, so an unknown hash can be remembered as unknown: no key will ever
    // be created with it, and a flood of made-up keys stops costing a query each.
    entry = row
      ? {
          id: row.id,
          tenantId: row.tenantId,
          scopes: row.scopes,
          expiresAt: row.expiresAt?.toISOString() ?? null,
          revokedAt: row.revokedAt?.toISOString() ?? null,
        }
      : { missing: true };
    defer(cache.set(cacheKey, entry, row ? API_KEY_CACHE_SECONDS : 60));
  }
  if ("missing" in entry) throw unauthorized("unknown API key");
  if (entry.revokedAt) throw unauthorized("API key revoked");
  if (entry.expiresAt && Date.parse(entry.expiresAt) <= Date.now()) throw unauthorized("API key expired");
  if (!lastUsedWrites.get(entry.id)) {
    lastUsedWrites.set(entry.id, true);
    defer(
      db
        .update(apiKeys)
        .set({ lastUsedAt: new Date() })
        .where(and(eq(apiKeys.id, entry.id), isNull(apiKeys.revokedAt))),
    );
  }
  return { tenantId: entry.tenantId, kind: "api_key", subject: entry.id, scopes: entry.scopes.filter(isScope) };
}

/**
 * Verified JWTs, per isolate, by the exact token string: a token that verified once verifies
 * again until it expires, so a client reusing its token skips the signature check. Entries live at
 * most a minute, so a key withdrawn from the JWKS stops being honoured within a minute too.
 */
const VERIFIED_TOKEN_MS = 60_000;
const verifiedTokens = new TtlCache<Credential>(10_000, VERIFIED_TOKEN_MS);

async function authenticateJwt(token: string, deps: AuthDeps): Promise<Credential> {
  const cfg = authConfig(deps.env);
  // The verdict depends on the configuration as much as on the token.
  const id = `${cfg.jwtAlg}\n${cfg.jwtSecret}\n${JSON.stringify(cfg.idp)}\n${token}`;
  const now = Date.now();
  const hit = verifiedTokens.get(id, now);
  if (hit) return { ...hit, scopes: [...hit.scopes] };
  const { principal, exp } = await verifyJwtPrincipal(token, cfg, deps.cache);
  verifiedTokens.set(id, principal, Math.min(now + VERIFIED_TOKEN_MS, exp * 1000));
  return principal;
}

async function verifyJwtPrincipal(token: string, cfg: AuthConfig, cache: Cache): Promise<{ principal: Credential; exp: number }> {
  let claims: JwtClaims;
  try {
    // Which verifier applies is read from the unverified iss, but each verifier pins its own
    // algorithm, key, issuer and audience, and the two never share a key (JWT_SECRET is for herald's
    // tokens only; config refuses IDP_JWT_SECRET = JWT_SECRET and JWT_ISSUER = "herald"), so a
    // forged iss buys nothing.
    claims = unverifiedClaims(token).iss === HERALD_ISSUER ? await verifySession(token, cfg) : await verifyExternal(token, cfg, cache);
  } catch (err) {
    if (err instanceof JwtError) throw unauthorized(err.message);
    throw err;
  }
  // verifyJwt has checked that exp is a number.
  return { principal: principalFromClaims(claims), exp: claims.exp! };
}

function verifySession(token: string, cfg: AuthConfig): Promise<JwtClaims> {
  const secret = cfg.jwtSecret;
  if (!secret) throw new JwtError("session tokens are not enabled");
  return verifyJwt(token, { alg: "HS256", key: hmacSecret(secret), issuer: HERALD_ISSUER, audience: HERALD_AUDIENCE });
}

function verifyExternal(token: string, cfg: AuthConfig, cache: Cache): Promise<JwtClaims> {
  const idp = cfg.idp;
  switch (idp.kind) {
    case "disabled":
      throw new JwtError(idp.reason);
    case "misconfigured":
      throw new ConfigError(idp.setting);
    case "hs256":
      return verifyJwt(token, { alg: "HS256", key: hmacSecret(idp.secret), issuer: idp.issuer, audience: idp.audience });
    case "jwks": {
      const jwks = new JwksResolver(idp.jwksUrl, cache);
      return verifyJwt(token, { alg: idp.alg, key: (header, jws) => jwks.key(header, jws), issuer: idp.issuer, audience: idp.audience });
    }
  }
}

function principalFromClaims(claims: JwtClaims): Credential {
  const tenantId = claims.tid ?? claims.tenant_id;
  if (!isUuid(tenantId)) throw unauthorized("token has no valid tenant claim (tid)");
  if (typeof claims.sub !== "string" || claims.sub === "") throw unauthorized("token has no subject");
  const session = claims.iss === HERALD_ISSUER;
  return {
    tenantId: tenantId.toLowerCase(),
    kind: session ? "session" : "user",
    subject: session ? claims.sub.replace(/^key:/, "") : claims.sub,
    scopes: scopesFromClaims(claims),
  };
}

function scopesFromClaims(claims: JwtClaims): Scope[] {
  const raw = Array.isArray(claims.scopes) ? claims.scopes : typeof claims.scope === "string" ? claims.scope.split(" ") : undefined;
  if (raw) return raw.filter(isScope);
  const role = claims.role;
  return typeof role === "string" && (ROLES as readonly string[]).includes(role) ? scopesForRole(role as Role) : [];
}
