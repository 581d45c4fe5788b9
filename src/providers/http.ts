import { clip } from "./errors";
import { ProviderError } from "./types";

export type FetchFn = typeof fetch;

export interface HttpContext {
  /** Names the provider in error messages. */
  provider: string;
  fetch: FetchFn;
  timeoutMs: number;
  /**
   * The 5xx statuses with which this provider says it did not take the request (safe to retry).
   * Any other 5xx is ambiguous: 502/504 come from a gateway whose backend may have acted.
   */
  safe5xx: (status: number) => boolean;
}

export interface HttpAnswer {
  status: number;
  headers: Headers;
  text: string;
}

/** 500 and 503, for providers that document both as "try again". */
export const SAFE_500_503 = (status: number) => status === 500 || status === 503;
/** 503 alone (RFC 9110 §15.6.4: the server is unable to handle the request). */
export const SAFE_503 = (status: number) => status === 503;

function isTimeout(err: unknown): boolean {
  return err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError");
}

/**
 * Errors the Workers runtime raises before it starts a subrequest at all
 * (https://developers.cloudflare.com/workers/platform/limits/#subrequests).
 */
const NOT_SENT = /^Too many subrequests/;

/**
 * One request with a deadline that covers the body too. Failures never escape as anything but a
 * ProviderError, and nothing of the request (its credentials above all) is in the message.
 *
 * Once fetch() is called the request may reach the provider, so a failure after that is ambiguous:
 * workerd reports a refused connection exactly like one reset after the request was read
 * ("Network connection lost."), and a failed DNS lookup as an "internal error", so neither can be
 * told apart from a lost answer. A 2xx whose body cannot be read is ambiguous too; after any other
 * status the body is only detail, and the status decides.
 *
 * Redirects are never followed: following one would send the credentials and the emails to a host
 * the tenant never configured (and that herald never checked). A 3xx answer is read by redirectFailure.
 */
export async function httpCall(ctx: HttpContext, url: string, init: RequestInit): Promise<HttpAnswer> {
  const signal = AbortSignal.timeout(ctx.timeoutMs);
  let res: Response;
  try {
    res = await ctx.fetch(url, { ...init, redirect: "manual", signal });
  } catch (err) {
    if (isTimeout(err) || signal.aborted) {
      throw new ProviderError("ambiguous", `${ctx.provider} did not answer within ${ctx.timeoutMs} ms; it may have accepted the request`);
    }
    if (err instanceof Error && NOT_SENT.test(err.message)) {
      throw new ProviderError("unavailable", `${ctx.provider} was not called: the Worker ran out of subrequests`);
    }
    throw new ProviderError("ambiguous", `the connection to ${ctx.provider} failed before its answer; it may have accepted the request`);
  }
  if (res.status >= 300 && res.status < 400) {
    await res.body?.cancel().catch(() => {});
    throw redirectFailure(ctx, res.status);
  }
  try {
    return { status: res.status, headers: res.headers, text: await res.text() };
  } catch (err) {
    if (res.status >= 200 && res.status < 300) {
      const why = isTimeout(err) || signal.aborted ? `did not arrive within ${ctx.timeoutMs} ms` : "was cut off";
      throw new ProviderError(
        "ambiguous",
        `${ctx.provider} answered ${res.status} but the rest of its answer ${why}; it may have accepted the request`,
      );
    }
    return { status: res.status, headers: res.headers, text: "" };
  }
}

/**
 * A 3xx to a send. RFC 9110 §15.4: a redirect asks the client to repeat the request elsewhere, so the
 * server did not act on it (301, 302, 307, 308; 300, 304, 305 are never an answer to a POST): nothing
 * was sent, and retrying the same URL will not help, so it is misconfigured. 303 See Other is the
 * exception: §15.4.4 uses it to point at the result of a request the server did process, so it is
 * ambiguous. The Location is not repeated: it is the answering server's text, and it may be hostile.
 */
export function redirectFailure(ctx: HttpContext, status: number): ProviderError {
  if (status === 303) {
    return new ProviderError(
      "ambiguous",
      `${ctx.provider} answered 303 See Other, which points at the result of a processed request; it may have accepted the request`,
    );
  }
  return new ProviderError(
    "misconfigured",
    `${ctx.provider} answered ${status}, a redirect; herald does not follow redirects, so nothing was sent: set the API's URL to the final address`,
  );
}

/** Retry-After as seconds (it may also be an HTTP date); capped, since a provider can say anything. */
export function retryAfter(headers: Headers): number | undefined {
  const value = headers.get("retry-after")?.trim();
  if (!value) return undefined;
  const seconds = /^\d+$/.test(value) ? Number(value) : Math.ceil((Date.parse(value) - Date.now()) / 1000);
  if (!Number.isFinite(seconds)) return undefined;
  return Math.min(Math.max(seconds, 0), 3600);
}

export function isSuccess(answer: HttpAnswer): boolean {
  return answer.status >= 200 && answer.status < 300;
}

/** A 5xx: not taken when the provider says so for this status, ambiguous otherwise. */
export function serverFailure(ctx: HttpContext, answer: HttpAnswer, why = ""): ProviderError {
  if (ctx.safe5xx(answer.status)) {
    return new ProviderError("unavailable", `${ctx.provider} answered ${answer.status}${why}`, retryAfter(answer.headers));
  }
  return new ProviderError(
    "ambiguous",
    `${ctx.provider} answered ${answer.status}${why}; it may have accepted the request`,
    retryAfter(answer.headers),
  );
}

/** The failures every HTTP provider shares; undefined when the status needs the provider's own reading. */
export function commonFailure(ctx: HttpContext, answer: HttpAnswer, detail?: string): ProviderError | undefined {
  const why = detail ? `: ${clip(detail, 200)}` : "";
  if (answer.status === 429) {
    return new ProviderError("rate_limited", `${ctx.provider} is rate limiting (429)${why}`, retryAfter(answer.headers));
  }
  if (answer.status >= 500) return serverFailure(ctx, answer, why);
  if (answer.status === 401 || answer.status === 403) {
    return new ProviderError("auth", `${ctx.provider} refused the credentials (${answer.status})${why}`);
  }
  return undefined;
}

/** A success status whose answer is not the one the provider documents: it may have taken the request. */
export function unreadableSuccess(ctx: HttpContext, answer: HttpAnswer, expected: string): ProviderError {
  return new ProviderError("ambiguous", `${ctx.provider} answered ${answer.status} without ${expected}; it may have accepted the request`);
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

/**
 * One request and the reading every HTTP provider shares: the answer's JSON (undefined when it is
 * not JSON), and the failures of commonFailure thrown, with `detailOf`'s text from the answer as
 * their detail. What is left (other 4xx, 2xx) is the provider's own to read.
 */
export async function sendRequest(
  ctx: HttpContext,
  url: string,
  init: RequestInit,
  detailOf: (json: unknown, text: string) => string | undefined,
): Promise<{ answer: HttpAnswer; json: unknown }> {
  const answer = await httpCall(ctx, url, init);
  const json = parseJson(answer.text);
  const failure = commonFailure(ctx, answer, detailOf(json, answer.text));
  if (failure) throw failure;
  return { answer, json };
}
