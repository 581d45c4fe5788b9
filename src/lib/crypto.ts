import { ConfigError } from "../config";
import { base64url, fromBase64url, fromUtf8, utf8 } from "./encoding";

/**
 * Sealed values look like `v1.<iv>.<ciphertext+tag>` (base64url). The version prefix lets a future
 * key or algorithm change tell old blobs from new ones without guessing.
 */
const VERSION = "v1";
const IV_BYTES = 12;

/** The blob is not one this key (and additional data) sealed: tampered, truncated or another key's. */
export class DecryptionError extends Error {
  constructor() {
    super("the sealed value could not be decrypted");
    this.name = "DecryptionError";
  }
}

let cached: { keyB64: string; key: Promise<CryptoKey> } | undefined;

function decodeKey(keyB64: string | undefined): Uint8Array<ArrayBuffer> {
  const text = (keyB64 ?? "").trim();
  if (text === "") throw new ConfigError("ENCRYPTION_KEY must be set (32 random bytes, base64)");
  // Accept both alphabets: `openssl rand -base64 32` and base64url tools are equally common.
  const bytes = fromBase64url(text.replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_"));
  if (bytes?.length !== 32) throw new ConfigError("ENCRYPTION_KEY must be 32 bytes, base64-encoded");
  return bytes;
}

/** Importing a key costs a little every time; the key only changes on redeploy, so keep the last one. */
function aesKey(keyB64: string | undefined): Promise<CryptoKey> {
  if (cached && cached.keyB64 === keyB64) return cached.key;
  const raw = decodeKey(keyB64);
  const key = crypto.subtle.importKey("raw", raw, { name: "AES-GCM" }, false, ["encrypt", "decrypt"]);
  cached = { keyB64: keyB64 ?? "", key };
  return key;
}

function params(iv: Uint8Array<ArrayBuffer>, aad: string | undefined) {
  return aad === undefined ? { name: "AES-GCM", iv } : { name: "AES-GCM", iv, additionalData: utf8(aad) };
}

/**
 * Seals a JSON value with AES-256-GCM under a fresh random IV. Pass `aad` (e.g. the owning row's id)
 * to bind the blob to its context, so a blob copied onto another row will not open there.
 */
export async function encryptJson(value: unknown, keyB64: string | undefined, aad?: string): Promise<string> {
  const key = await aesKey(keyB64);
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const sealed = await crypto.subtle.encrypt(params(iv, aad), key, utf8(JSON.stringify(value)));
  return `${VERSION}.${base64url(iv)}.${base64url(new Uint8Array(sealed))}`;
}

/** Opens a blob from encryptJson; throws DecryptionError for anything that does not authenticate. */
export async function decryptJson<T>(blob: string, keyB64: string | undefined, aad?: string): Promise<T> {
  const key = await aesKey(keyB64);
  const [version, ivText, sealedText, ...rest] = blob.split(".");
  if (version !== VERSION || rest.length > 0 || ivText === undefined || sealedText === undefined) throw new DecryptionError();
  const iv = fromBase64url(ivText);
  const sealed = fromBase64url(sealedText);
  if (!iv || iv.length !== IV_BYTES || !sealed) throw new DecryptionError();
  let plain: ArrayBuffer;
  try {
    plain = await crypto.subtle.decrypt(params(iv, aad), key, sealed);
  } catch {
    throw new DecryptionError();
  }
  return JSON.parse(fromUtf8(new Uint8Array(plain))) as T;
}
