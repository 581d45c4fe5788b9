import type { JwtAlg } from "../config";
import type { Cache } from "../services/cache";
import { sha256Hex } from "../lib/encoding";
import { JwtError, type JwtHeader } from "./jwt";

interface Jwk extends JsonWebKey {
  kid?: string;
  use?: string;
}
interface JwkSet {
  keys: Jwk[];
}

const TTL_SECONDS = 600;
// A token with an unknown kid may mean the provider rotated keys; refetch, but not more often than this.
const REFETCH_AFTER_MS = 30_000;

interface Entry {
  set: JwkSet;
  fetchedAt: number;
}

const memory = new Map<string, Entry>();
const imported = new Map<string, Promise<CryptoKey>>();

/** Resolves verification keys from a JWKS URL; the set is cached in memory and in the shared cache. */
export class JwksResolver {
  constructor(
    private readonly url: string,
    private readonly alg: Exclude<JwtAlg, "HS256">,
    private readonly cache: Cache,
    // Wrapped: workerd's fetch refuses to be called with another `this`.
    private readonly fetcher: typeof fetch = (input, init) => fetch(input, init),
  ) {}

  async key(header: JwtHeader): Promise<CryptoKey> {
    let entry = await this.load(false);
    let jwk = this.pick(entry.set, header.kid);
    if (!jwk && Date.now() - entry.fetchedAt > REFETCH_AFTER_MS) {
      entry = await this.load(true);
      jwk = this.pick(entry.set, header.kid);
    }
    if (!jwk) throw new JwtError("no matching signing key");
    const id = `${this.alg}:${await sha256Hex(JSON.stringify(jwk))}`;
    let key = imported.get(id);
    if (!key) {
      key = crypto.subtle.importKey("jwk", jwk, importAlgorithm(this.alg), false, ["verify"]);
      key.catch(() => imported.delete(id));
      imported.set(id, key);
    }
    try {
      return await key;
    } catch {
      throw new JwtError("signing key is unusable");
    }
  }

  private pick(set: JwkSet, kid: string | undefined): Jwk | undefined {
    const kty = this.alg === "RS256" ? "RSA" : "EC";
    const candidates = set.keys.filter(
      (k) => k.kty === kty && (k.use === undefined || k.use === "sig") && (k.alg === undefined || k.alg === this.alg),
    );
    if (kid !== undefined) return candidates.find((k) => k.kid === kid);
    return candidates.length === 1 ? candidates[0] : undefined;
  }

  private async load(force: boolean): Promise<Entry> {
    const cacheKey = `jwks:${this.url}`;
    const now = Date.now();
    const mem = memory.get(cacheKey);
    if (!force && mem && now - mem.fetchedAt < TTL_SECONDS * 1000) return mem;
    if (!force) {
      const shared = await this.cache.get<Entry>(cacheKey).catch(() => undefined);
      if (shared && now - shared.fetchedAt < TTL_SECONDS * 1000) {
        memory.set(cacheKey, shared);
        return shared;
      }
    }
    const entry = { set: await this.fetchSet(), fetchedAt: now };
    memory.set(cacheKey, entry);
    await this.cache.set(cacheKey, entry, TTL_SECONDS).catch(() => {});
    return entry;
  }

  private async fetchSet(): Promise<JwkSet> {
    let res: Response;
    try {
      // Never follow a redirect: the configured URL is the one trusted for keys, and a redirect
      // could hand the choice of signing keys (or an internal address to fetch) to someone else.
      res = await this.fetcher(this.url, { headers: { accept: "application/json" }, redirect: "manual", signal: AbortSignal.timeout(5000) });
    } catch {
      throw new JwksUnavailable();
    }
    // A 3xx is not ok either, so it is "key set unavailable" like any other failure.
    if (!res.ok) {
      await res.body?.cancel().catch(() => {});
      throw new JwksUnavailable();
    }
    const body = (await res.json().catch(() => undefined)) as JwkSet | undefined;
    if (!body || !Array.isArray(body.keys)) throw new JwksUnavailable();
    return body;
  }
}

/** The key set could not be fetched: the caller is not at fault, so this is a 503, not a 401. */
export class JwksUnavailable extends Error {
  constructor() {
    super("key set unavailable");
    this.name = "JwksUnavailable";
  }
}

function importAlgorithm(alg: Exclude<JwtAlg, "HS256">): SubtleCryptoImportKeyAlgorithm {
  return alg === "RS256" ? { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } : { name: "ECDSA", namedCurve: "P-256" };
}
