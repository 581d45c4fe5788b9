import { describe, expect, it } from "vitest";
import { env } from "cloudflare:workers";
import { ConfigError } from "../../src/config";
import { decryptJson, DecryptionError, encryptJson } from "../../src/lib/crypto";

const KEY = env.ENCRYPTION_KEY;
const OTHER_KEY = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
const SECRET = { api_key: "re_live_very_secret", nested: { n: 1, ok: true } };

/** Changes one character in the middle of a blob part, keeping it valid base64url. */
function flip(blob: string, part: 1 | 2): string {
  const parts = blob.split(".");
  const text = parts[part]!;
  const at = Math.floor(text.length / 2);
  parts[part] = text.slice(0, at) + (text[at] === "A" ? "B" : "A") + text.slice(at + 1);
  return parts.join(".");
}

describe("encryptJson / decryptJson", () => {
  it("round-trips a value, with a fresh IV every time and a versioned format", async () => {
    const a = await encryptJson(SECRET, KEY, "herald:provider:1");
    const b = await encryptJson(SECRET, KEY, "herald:provider:1");
    expect(a).toMatch(/^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    expect(a).not.toBe(b);
    expect(a.split(".")[1]).not.toBe(b.split(".")[1]);
    expect(a).not.toContain("very_secret");
    expect(await decryptJson(a, KEY, "herald:provider:1")).toEqual(SECRET);
    expect(await decryptJson(await encryptJson("plain", KEY), KEY)).toBe("plain");
  });

  it("detects tampering with the ciphertext, the IV, the version or the length", async () => {
    const blob = await encryptJson(SECRET, KEY);
    for (const bad of [flip(blob, 2), flip(blob, 1), blob.replace(/^v1\./, "v2."), blob.slice(0, -4), `${blob}.x`, "garbage", ""]) {
      await expect(decryptJson(bad, KEY)).rejects.toBeInstanceOf(DecryptionError);
    }
  });

  it("binds the blob to its additional data and to its key", async () => {
    const blob = await encryptJson(SECRET, KEY, "herald:provider:a");
    await expect(decryptJson(blob, KEY, "herald:provider:b")).rejects.toBeInstanceOf(DecryptionError);
    await expect(decryptJson(blob, KEY)).rejects.toBeInstanceOf(DecryptionError);
    await expect(decryptJson(blob, OTHER_KEY, "herald:provider:a")).rejects.toBeInstanceOf(DecryptionError);
  });

  it("accepts the key in either base64 alphabet", async () => {
    const urlSafe = KEY.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    expect(await decryptJson(await encryptJson(SECRET, urlSafe), KEY)).toEqual(SECRET);
  });

  it("treats a missing or malformed key as a configuration error", async () => {
    const short = btoa("0123456789abcdef");
    for (const key of ["", "   ", "not base64 at all!", short, `${KEY}AAAA`]) {
      await expect(encryptJson(SECRET, key)).rejects.toBeInstanceOf(ConfigError);
    }
    await expect(decryptJson("v1.AAAAAAAAAAAAAAAA.AAAA", undefined as unknown as string)).rejects.toBeInstanceOf(ConfigError);
  });
});
