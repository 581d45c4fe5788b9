import { clip } from "./errors";
import { ProviderError } from "./types";

export type FetchFn = typeof fetch;

export interface HttpContext {
  /** Names the provider in error messages. */
  provider: string;
  fetch: FetchFn;
  timeoutMs: number;
}

export interface HttpAnswer {
  status: number;
  headers: Headers;
  text: string;
}

function isTimeout(err: unknown): boolean {
  return err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError");
}

/**
 * One request with a deadline that covers the body too. Network failures never escape as anything
 * but a ProviderError, and nothing of the request (its credentials above all) is in the message.
 */
export async function httpCall(ctx: HttpContext, url: string, init: RequestInit): Promise<HttpAnswer> {
  const signal = AbortSignal.timeout(ctx.timeoutMs);
  try {
    const res = await ctx.fetch(url, { ...init, signal });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text };
  } catch (err) {
    if (isTimeout(err) || signal.aborted) {
      throw new ProviderError("timeout", `${ctx.provider} did not answer within ${ctx.timeoutMs} ms`);
    }
    throw new ProviderError("unavailable", `${ctx.provider} could not be reached`);
  }
}

/** Retry-After as seconds (it may also be an HTTP date); capped, since a provider can say anything. */
export function retryAfter(headers: Headers): number | undefined {
  const value = headers.get("retry-after")?.trim();
  if (!value) return undefined;
  const seconds = /^\d+$/.test(value) ? Number(value) : Math.ceil((Date.parse(value) - Date.now()) / 1000);
  if (!Number.isFinite(seconds)) return undefined;
  return Math.min(Math.max(seconds, 0), 3600);
}

/** The failures every HTTP provider shares; undefined when the status needs the provider's own reading. */
export function commonFailure(ctx: HttpContext, answer: HttpAnswer, detail?: string): ProviderError | undefined {
  const why = detail ? `: ${clip(detail, 200)}` : "";
  if (answer.status === 429) {
    return new ProviderError("rate_limited", `${ctx.provider} is rate limiting (429)${why}`, retryAfter(answer.headers));
  }
  if (answer.status >= 500) {
    return new ProviderError("unavailable", `${ctx.provider} answered ${answer.status}${why}`, retryAfter(answer.headers));
  }
  if (answer.status === 401 || answer.status === 403) {
    return new ProviderError("auth", `${ctx.provider} refused the credentials (${answer.status})${why}`);
  }
  return undefined;
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** A string field from a JSON error body, whatever its nesting; for error messages only. */
export function messageIn(body: unknown, ...keys: string[]): string | undefined {
  if (!body || typeof body !== "object") return undefined;
  for (const key of keys) {
    const value = (body as Record<string, unknown>)[key];
    if (typeof value === "string" && value) return value;
  }
  return undefined;
}
