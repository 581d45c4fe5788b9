import { sha256Hex } from "../lib/encoding";

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const SECRET_LENGTH = 43; // 43 base62 characters carry 256 bits
export const API_KEY_PATTERN = /^hk_[0-9A-Za-z]{43}$/;
const PREFIX_LENGTH = 10;

export interface NewApiKey {
  key: string;
  prefix: string;
  hash: string;
}

export function looksLikeApiKey(token: string): boolean {
  return token.startsWith("hk_");
}

export function isWellFormedApiKey(token: string): boolean {
  return API_KEY_PATTERN.test(token);
}

export async function generateApiKey(): Promise<NewApiKey> {
  let secret = "";
  while (secret.length < SECRET_LENGTH) {
    for (const byte of crypto.getRandomValues(new Uint8Array(64))) {
      // Rejection sampling keeps every character equally likely.
      if (byte < 248 && secret.length < SECRET_LENGTH) secret += ALPHABET[byte % 62];
    }
  }
  const key = `hk_${secret}`;
  return { key, prefix: key.slice(0, PREFIX_LENGTH), hash: await hashApiKey(key) };
}

/**
 * The hashes of keys this isolate has seen, so a key in steady use is hashed once rather than on
 * every request. Isolate memory already holds each request's key; nothing here leaves it.
 */
const recentHashes = new Map<string, string>();
const MAX_RECENT_HASHES = 10_000;

/** Keys carry 256 random bits, so a fast hash is enough: there is nothing to brute-force. */
export async function hashApiKey(key: string): Promise<string> {
  const known = recentHashes.get(key);
  if (known) return known;
  const hash = await sha256Hex(key);
  if (recentHashes.size >= MAX_RECENT_HASHES) recentHashes.clear();
  recentHashes.set(key, hash);
  return hash;
}
