import { createLocalJWKSet, errors, type FlattenedJWSInput, type JSONWebKeySet, type JWK, type JWSHeaderParameters } from "jose";
import { TtlCache } from "../lib/ttl-cache";
import type { Cache } from "../services/cache";
import { JwtError } from "./jwt";

const TTL_SECONDS = 600;
// A token with an unknown kid may mean the provider rotated keys; refetch, but not more often than this.
const REFETCH_AFTER_MS = 30_000;

/** What the shared cache holds, so other isolates skip the fetch. */
interface Entry {
  set: JSONWebKeySet;
  fetchedAt: number;
}
/** jose's key selection and import over one fetched set; it keeps the imported keys. */
interface Loaded extends Entry {
  select: ReturnType<typeof createLocalJWKSet>;
}

/** Per isolate, by URL; an entry fetched elsewhere keeps its own fetch time, so it expires on time. */
const memory = new TtlCache<Loaded>(64, TTL_SECONDS * 1000);

/**
 * Resolves verification keys from a JWKS URL for jose's jwtVerify. jose's createRemoteJWKSet has
 * the same TTL and cooldown but caches per isolate only; this adds the shared cache, so the set
 * is fetched here and jose's createLocalJWKSet selects and imports the key.
 */
export class JwksResolver {
  constructor(
    private readonly url: string,
    private readonly cache: Cache,
    // Wrapped: workerd's fetch refuses to be called with another `this`.
    private readonly fetcher: typeof fetch = (input, init) => fetch(input, init),
  ) {}

  async key(header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<CryptoKey> {
    let entry = await this.load(false);
    let key = await pick(entry, header, token);
    if (!key && Date.now() - entry.fetchedAt > REFETCH_AFTER_MS) {
      entry = await this.load(true);
      key = await pick(entry, header, token);
    }
    if (!key) throw new JwtError("no matching signing key");
    return key;
  }

  private async load(force: boolean): Promise<Loaded> {
    const cacheKey = `jwks:${this.url}`;
    const now = Date.now();
    const mem = memory.get(cacheKey, now);
    if (!force && mem) return mem;
    if (!force) {
      const shared = await this.cache.get<Entry>(cacheKey).catch(() => undefined);
      if (shared && now - shared.fetchedAt < TTL_SECONDS * 1000) {
        try {
          return remember(cacheKey, shared);
        } catch {
          // A shared entry jose will not take is refetched like a missing one.
        }
      }
    }
    const entry = { set: await this.fetchSet(), fetchedAt: now };
    const loaded = remember(cacheKey, entry);
    await this.cache.set(cacheKey, entry, TTL_SECONDS).catch(() => {});
    return loaded;
  }

  private async fetchSet(): Promise<JSONWebKeySet> {
    let res: Response;
    try {
      // Never follow a redirect: the configured URL is the one trusted for keys, and a redirect
      // could hand the choice of signing keys (or an internal address to fetch) to someone else.
      res = await this.fetcher(this.url, {
        headers: { accept: "application/json" },
        redirect: "manual",
        signal: AbortSignal.timeout(5000),
      });
    } catch {
      throw new JwksUnavailable();
    }
    // A 3xx is not ok either, so it is "key set unavailable" like any other failure.
    if (!res.ok) {
      await res.body?.cancel().catch(() => {});
      throw new JwksUnavailable();
    }
    const body = (await res.json().catch(() => undefined)) as { keys?: unknown } | undefined;
    if (!body || !Array.isArray(body.keys)) throw new JwksUnavailable();
    // jose refuses a whole set over one member that is not an object; such a member matches no token anyway.
    return { keys: body.keys.filter((k): k is JWK => !!k && typeof k === "object" && !Array.isArray(k)) };
  }
}

function remember(cacheKey: string, entry: Entry): Loaded {
  const loaded = { ...entry, select: createLocalJWKSet(entry.set) };
  memory.set(cacheKey, loaded, entry.fetchedAt + TTL_SECONDS * 1000);
  return loaded;
}

/** The matching key, or undefined when the set has none (which may call for a refetch). */
async function pick(entry: Loaded, header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<CryptoKey | undefined> {
  try {
    return await entry.select(header, token);
  } catch (err) {
    if (err instanceof errors.JWKSNoMatchingKey) return undefined;
    if (err instanceof errors.JWKSMultipleMatchingKeys) {
      // Several keys under the token's kid: the first usable one. Without a kid, none is chosen.
      if (header.kid !== undefined) for await (const key of err) return key;
      return undefined;
    }
    throw new JwtError("signing key is unusable");
  }
}

/** The key set could not be fetched: the caller is not at fault, so this is a 503, not a 401. */
export class JwksUnavailable extends Error {
  constructor() {
    super("key set unavailable");
    this.name = "JwksUnavailable";
  }
}
