import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { uuidv7 } from "../../src/lib/ids";
import { ProviderError, type OutboundEmail } from "../../src/providers/types";
import type { ProviderStubInfo } from "../setup/provider-stubs";

/** The fault stand-ins test/providers/stubs/index.mjs adds to ProviderStubInfo. */
export interface FaultStubInfo {
  /** A scripted SMTP relay (no AUTH, no TLS) steered by "fault-…" recipients: stubs/smtp-stub.mjs. */
  faultSmtpPort: number;
  /** herald's sink wire format on the HTTP stand-ins, so "fault-…" recipients work there too. */
  sinkFaultUrl: string;
}

export function stubs(): ProviderStubInfo & FaultStubInfo {
  return JSON.parse((env as Env & { TEST_PROVIDER_STUBS: string }).TEST_PROVIDER_STUBS) as ProviderStubInfo & FaultStubInfo;
}

/**
 * A fresh address; put "reject", "throttle", "unavailable", "slow" or "fault-<name>" in the tag to
 * steer a stand-in (stubs/http-stubs.mjs, stubs/smtp-stub.mjs).
 */
export function address(tag = "user"): string {
  return `${tag}-${crypto.randomUUID().slice(0, 8)}@example.test`;
}

export function email(overrides: Partial<OutboundEmail> = {}): OutboundEmail {
  return {
    id: uuidv7(),
    from: "Herald Tests <sender@herald.test>",
    to: [address()],
    subject: "Hello from herald",
    html: "<p>Hello <b>there</b></p>",
    text: "Hello there",
    headers: { "X-Herald-Campaign": "c-1", "List-Unsubscribe": "<https://herald.test/u/abc>" },
    ...overrides,
  };
}

export interface Captured {
  provider: string;
  path: string;
  headers: Record<string, string>;
  body: unknown;
  recipients: string[];
  violations: string[];
  /** Resend only: answered from the stand-in's idempotency store (true) or refused as another body (false). */
  replayed?: boolean;
  /** SendGrid only: what each personalization's recipients would get, substitutions applied. */
  delivered?: Delivered[];
}

export interface Delivered {
  to: string[];
  cc: string[];
  bcc: string[];
  from: { email: string; name?: string };
  replyTo?: { email: string; name?: string };
  subject: string;
  text?: string;
  html?: string;
  headers: Record<string, string>;
  customArgs: Record<string, string>;
}

/** What an HTTP stand-in received for requests naming `to`. */
export async function captured(provider: string, to: string): Promise<Captured[]> {
  const res = await fetch(`${stubs().control}/_captured?provider=${provider}&to=${encodeURIComponent(to)}`);
  return (await res.json()) as Captured[];
}

/** The requests naming any of `tos`, without their bodies, each with only those recipients' deliveries. */
export async function capturedAny(provider: string, tos: string[]): Promise<Captured[]> {
  const res = await fetch(`${stubs().control}/_captured`, { method: "POST", body: JSON.stringify({ provider, to: tos, brief: true }) });
  return (await res.json()) as Captured[];
}

export interface SmtpCaptured {
  envelope: { from: string | null; to: string[] };
  user: string | null;
  messageId: string | null;
  date: string | null;
  dateHeader: string | null;
  from: { address: string; name: string }[];
  to: { address: string; name: string }[];
  cc: { address: string; name: string }[];
  replyTo: { address: string; name: string }[];
  subject: string | null;
  text: string | null;
  html: string | null;
  contentType: string | null;
  parts: { contentType?: string; transferEncoding?: string }[];
  headers: Record<string, string>;
  raw: string;
}

/** SMTP mail the real test server took for `to`, parsed by mailparser. */
export async function smtpMessages(to: string): Promise<SmtpCaptured[]> {
  const res = await fetch(`${stubs().control}/_smtp/messages?to=${encodeURIComponent(to)}`);
  return (await res.json()) as SmtpCaptured[];
}

/** What the fault SMTP relay saw reach its end of data for `to`. */
export async function smtpFaultLog(to: string): Promise<{ to: string[]; outcome: string }[]> {
  const res = await fetch(`${stubs().control}/_smtp/faults?to=${encodeURIComponent(to)}`);
  return (await res.json()) as { to: string[]; outcome: string }[];
}

/** The ProviderError a send rejected with (fails the test if it resolved). */
export async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  const err = await promise.then(
    (value) => {
      throw new Error(`expected a ProviderError, got ${JSON.stringify(value)}`);
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProviderError);
  return err as ProviderError;
}

/** Asserts a failure is ambiguous for exactly `ids`: never retried, never transient. */
export function expectAmbiguous(err: ProviderError, ids: string[]): void {
  expect(err.kind).toBe("ambiguous");
  expect(err.ambiguous).toBe(true);
  expect(err.transient).toBe(false);
  expect(err.ambiguousIds).toEqual(ids);
}

/** Asserts a failure says nothing was accepted: safe to retry. */
export function expectSafe(err: ProviderError, kind: "rate_limited" | "unavailable" | "timeout"): void {
  expect(err.kind).toBe(kind);
  expect(err.ambiguous).toBe(false);
  expect(err.transient).toBe(true);
  expect(err.ambiguousIds).toBeUndefined();
}
