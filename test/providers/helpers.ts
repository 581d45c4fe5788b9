import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { uuidv7 } from "../../src/lib/ids";
import { ProviderError, type OutboundEmail } from "../../src/providers/types";
import type { ProviderStubInfo } from "../setup/provider-stubs";

export function stubs(): ProviderStubInfo {
  return JSON.parse((env as Env & { TEST_PROVIDER_STUBS: string }).TEST_PROVIDER_STUBS) as ProviderStubInfo;
}

/** A fresh address; put "reject", "throttle", "unavailable" or "slow" in the tag to steer a stand-in. */
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
}

/** What an HTTP stand-in received for requests naming `to`. */
export async function captured(provider: string, to: string): Promise<Captured[]> {
  const res = await fetch(`${stubs().control}/_captured?provider=${provider}&to=${encodeURIComponent(to)}`);
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
