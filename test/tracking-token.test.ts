// signToken and verifyToken: compact HMAC-signed tracking claims, refused whole when anything about
// them is off (MAC, length, kind, shape).
import { describe, expect, it } from "vitest";
import { base64url, fromBase64url, fromUtf8, utf8 } from "../src/lib/encoding";
import { signToken, verifyToken, type TrackingClaims } from "../src/tracking";
import { click, M, open, SECRET, T, unsub } from "./tracking-claims";

/** Re-signs an arbitrary payload properly, to test the shape checks behind a valid MAC. */
async function forge(payload: unknown, secret = SECRET): Promise<string> {
  const part = base64url(utf8(JSON.stringify(payload)));
  const key = await crypto.subtle.importKey("raw", utf8(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = await crypto.subtle.sign("HMAC", key, utf8(`herald-track-v1.${part}`));
  return `${part}.${base64url(new Uint8Array(mac))}`;
}

describe("signToken / verifyToken", () => {
  it("round-trips each kind", async () => {
    for (const claims of [open, click, unsub, { k: "o", t: T, m: M } as TrackingClaims]) {
      const token = await signToken(SECRET, claims);
      expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
      expect(await verifyToken(SECRET, token, claims.k)).toEqual(claims);
    }
  });

  it("is compact, deterministic and keeps the full 32-byte MAC", async () => {
    const token = await signToken(SECRET, { k: "o", t: T, m: M });
    expect(token).toBe(await signToken(SECRET, { k: "o", t: T, m: M }));
    const [payload, mac] = token.split(".");
    expect(fromBase64url(mac!)!.length).toBe(32);
    expect(JSON.parse(fromUtf8(fromBase64url(payload!)!))).toEqual({ k: "o", t: T, m: M });
    expect(token.length).toBeLessThan(200);
  });

  it("drops undefined optional claims", async () => {
    const token = await signToken(SECRET, { k: "o", t: T, m: M, c: undefined });
    expect(await verifyToken(SECRET, token, "o")).toStrictEqual({ k: "o", t: T, m: M });
  });

  it("refuses tampered, truncated, swapped, foreign and garbage tokens", async () => {
    const token = await signToken(SECRET, click);
    const [payload, mac] = token.split(".") as [string, string];
    const flip = (s: string, at: number) => s.slice(0, at) + (s[at] === "A" ? "B" : "A") + s.slice(at + 1);

    // Tampered payload: re-encode different claims under the old MAC.
    const evil = base64url(utf8(JSON.stringify({ ...click, u: "https://evil.example/" })));
    expect(await verifyToken(SECRET, `${evil}.${mac}`, "c")).toBeUndefined();
    expect(await verifyToken(SECRET, `${flip(payload, 5)}.${mac}`, "c")).toBeUndefined();
    // Tampered signature.
    expect(await verifyToken(SECRET, `${payload}.${flip(mac, 0)}`, "c")).toBeUndefined();
    expect(await verifyToken(SECRET, `${payload}.${flip(mac, 20)}`, "c")).toBeUndefined();
    // Non-canonical spelling of the same MAC bytes (last char's spare bits set).
    const last = mac.slice(-1);
    const alt = "AEIMQUYcgkosw048".includes(last) ? String.fromCharCode(last.charCodeAt(0) + 1) : last;
    if (alt !== last) expect(await verifyToken(SECRET, `${payload}.${mac.slice(0, -1)}${alt}`, "c")).toBeUndefined();
    // Truncated.
    expect(await verifyToken(SECRET, token.slice(0, -1), "c")).toBeUndefined();
    expect(await verifyToken(SECRET, token.slice(0, -20), "c")).toBeUndefined();
    expect(await verifyToken(SECRET, `${payload}.`, "c")).toBeUndefined();
    expect(await verifyToken(SECRET, payload, "c")).toBeUndefined();
    expect(await verifyToken(SECRET, token.slice(1), "c")).toBeUndefined();
    // Extra parts.
    expect(await verifyToken(SECRET, `${token}.x`, "c")).toBeUndefined();
    expect(await verifyToken(SECRET, `x.${token}`, "c")).toBeUndefined();
    // Swapped kind.
    expect(await verifyToken(SECRET, token, "o")).toBeUndefined();
    expect(await verifyToken(SECRET, token, "u")).toBeUndefined();
    expect(await verifyToken(SECRET, await signToken(SECRET, unsub), "o")).toBeUndefined();
    expect(await verifyToken(SECRET, token, "x" as "o")).toBeUndefined();
    // Other secret.
    expect(await verifyToken("another-secret", token, "c")).toBeUndefined();
    expect(await verifyToken(SECRET, await signToken("another-secret", click), "c")).toBeUndefined();
    expect(await verifyToken("", token, "c")).toBeUndefined();
    // Garbage.
    for (const junk of ["", ".", "..", "a.b", "%%%.%%%", "🙂.🙂", `${payload}.${"!".repeat(43)}`, "eyJ9.".padEnd(48, "A")]) {
      expect(await verifyToken(SECRET, junk, "c")).toBeUndefined();
    }
    expect(await verifyToken(SECRET, undefined as unknown as string, "c")).toBeUndefined();
    expect(await verifyToken(SECRET, 42 as unknown as string, "c")).toBeUndefined();
  });

  it("refuses huge input without looking at it", async () => {
    const token = await signToken(SECRET, click);
    expect(await verifyToken(SECRET, token + "A".repeat(4096), "c")).toBeUndefined();
    expect(await verifyToken(SECRET, "A".repeat(5_000_000), "c")).toBeUndefined();
    // Valid MAC over an over-length payload still fails on length.
    const big = await forge({ ...click, u: `https://example.com/${"a".repeat(4000)}` });
    expect(big.length).toBeGreaterThan(4096);
    expect(await verifyToken(SECRET, big, "c")).toBeUndefined();
    await expect(signToken(SECRET, { ...click, u: `https://example.com/${"a".repeat(3500)}` })).rejects.toThrow(RangeError);
  });

  it("applies the shape checks even behind a valid MAC", async () => {
    expect(await verifyToken(SECRET, await forge(click), "c")).toEqual(click); // the forge helper matches
    const bad: unknown[] = [
      { ...click, u: "javascript:alert(1)" },
      { ...click, u: "JavaScript:alert(1)" },
      { ...click, u: " javascript:alert(1)" },
      { ...click, u: "data:text/html,hi" },
      { ...click, u: "/relative" },
      { ...click, u: "//example.com/x" },
      { ...click, u: "https://example.com/\r\nSet-Cookie: x" },
      { ...click, u: undefined },
      { ...click, u: 42 },
      { ...open, u: "https://example.com/" },
      { ...open, t: "not-a-uuid" },
      { ...open, m: 1 },
      { ...open, c: "nope" },
      { ...open, ct: "" },
      { ...open, extra: 1 },
      { ...open, k: "x" },
      { k: "u", t: T, m: M },
      { ...unsub, e: 5 },
      { ...unsub, e: "" },
      [open],
      "o",
      null,
    ];
    for (const payload of bad) {
      for (const kind of ["o", "c", "u"] as const) {
        expect(await verifyToken(SECRET, await forge(payload), kind)).toBeUndefined();
      }
    }
    // Payload that is not UTF-8 / not JSON.
    const notJson = async (bytes: Uint8Array) => {
      const key = await crypto.subtle.importKey("raw", utf8(SECRET), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
      const part = base64url(bytes);
      const mac = await crypto.subtle.sign("HMAC", key, utf8(`herald-track-v1.${part}`));
      return `${part}.${base64url(new Uint8Array(mac))}`;
    };
    expect(await verifyToken(SECRET, await notJson(new Uint8Array([0xff, 0xfe, 0x7b])), "o")).toBeUndefined();
    expect(await verifyToken(SECRET, await notJson(utf8("{not json")), "o")).toBeUndefined();
    expect(await verifyToken(SECRET, await notJson(utf8('{"__proto__":{"k":"o"},"t":"x"}')), "o")).toBeUndefined();
  });

  it("refuses javascript: and other non-http click targets at sign time", async () => {
    for (const u of [
      "javascript:alert(1)",
      "JAVASCRIPT:alert(1)",
      "\tjavascript:alert(1)",
      "java\nscript:alert(1)",
      "data:,x",
      "mailto:a@b.c",
      "/x",
      "",
      "https://exa mple.com/\n",
    ]) {
      await expect(signToken(SECRET, { ...click, u })).rejects.toThrow(TypeError);
    }
    await expect(signToken(SECRET, { k: "c", t: T, m: M })).rejects.toThrow(TypeError);
    await expect(signToken(SECRET, { ...open, u: "https://example.com/" })).rejects.toThrow(TypeError);
    await expect(signToken(SECRET, { k: "u", t: T, m: M })).rejects.toThrow(TypeError);
    await expect(signToken(SECRET, { ...open, t: "x" })).rejects.toThrow(TypeError);
    await expect(signToken("", open)).rejects.toThrow(TypeError);
    // http and https in any case are fine.
    const token = await signToken(SECRET, { ...click, u: "HTTP://Example.com/A" });
    expect((await verifyToken(SECRET, token, "c"))?.u).toBe("HTTP://Example.com/A");
  });
});
