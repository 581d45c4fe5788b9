import { sha256Hex } from "../../../lib/encoding";
import type { Cache } from "../../../services/cache";
import type { Logger } from "../../../services/logger";
import type { ReplayGuard } from "../../../webhooks/inbound";

/**
 * Tokens of signed inbound requests answered 2xx, per provider, in the request's cache. With Workers
 * KV, another location may take up to about a minute to see a token (Upstash sees it at once); a
 * replay that slips through then is still only a duplicate, which event de-duplication stores once.
 */
async function keyOf(providerId: string, guard: ReplayGuard): Promise<string> {
  // Hashed: the key stays short and the token itself is never written anywhere.
  return `inbound-answered:${providerId}:${await sha256Hex(guard.token)}`;
}

/** Whether a request with this token was answered 2xx before. A cache that fails is treated as "no". */
export async function alreadyAnswered(cache: Cache, providerId: string, guard: ReplayGuard, logger: Logger): Promise<boolean> {
  try {
    return (await cache.get<boolean>(await keyOf(providerId, guard))) === true;
  } catch (err) {
    // Failing open: the events are de-duplicated downstream, and refusing would lose real events.
    logger.warn("inbound webhook: replay cache unavailable; processing the request", { err });
    return false;
  }
}

/** Records the token of a request about to be answered 2xx, for as long as its timestamp is valid. */
export async function rememberAnswered(cache: Cache, providerId: string, guard: ReplayGuard, logger: Logger): Promise<void> {
  try {
    await cache.set(await keyOf(providerId, guard), true, Math.max(1, guard.ttlSeconds));
  } catch (err) {
    // The events are queued already; a 5xx now would only make the provider send them again.
    logger.warn("inbound webhook: could not remember the request's token", { err });
  }
}
