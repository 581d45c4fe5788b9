// The tracking token tests' secret and claims, shared by the token and HTML rewriting suites.
import type { TrackingClaims } from "../src/tracking";

export const SECRET = "tracking-test-secret";
export const T = "0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b";
export const M = "0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2c";
const C = "0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2d";
const CT = "0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2e";

export const open: TrackingClaims = { k: "o", t: T, m: M, c: C, ct: CT };
export const click: TrackingClaims = { k: "c", t: T, m: M, c: C, u: "https://example.com/path?a=1&b=ü#frag" };
export const unsub: TrackingClaims = { k: "u", t: T, m: M, e: "ada@example.com", ct: CT };
