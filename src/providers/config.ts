import { z } from "zod";

const LOOPBACK_V4 = /^127(\.\d{1,3}){3}$/;

/** Loopback hosts are where local capture servers live; plaintext is allowed only there. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, "");
  return h === "localhost" || h === "::1" || LOOPBACK_V4.test(h);
}

export const TimeoutMs = z.number().int().min(100).max(120_000).optional();

/** An API base URL: HTTPS, or plain HTTP to a loopback stand-in (tests, local development). */
export const BaseUrl = z
  .url({ protocol: /^https?$/ })
  .refine((value) => {
    const url = new URL(value);
    return url.protocol === "https:" || isLoopbackHost(url.hostname);
  }, "must be https (plain http only to a loopback host)")
  .transform((value) => value.replace(/\/+$/, ""));

export const ApiKey = z.string().trim().min(1).max(500);
