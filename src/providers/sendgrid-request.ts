// SendGrid's Mail Send request: its limits, how emails and recipients are written in it, and how
// shared requests are packed within the limits.
import { parseMailbox } from "./address";
import type { OutboundEmail } from "./types";

export function mailbox(text: string) {
  const m = parseMailbox(text)!;
  return m.name ? { email: m.email, name: m.name } : { email: m.email };
}

/** SendGrid's errors come as {errors:[{message, field}]}. */
export function errorsOf(body: unknown): string | undefined {
  const list = (body as { errors?: { message?: unknown; field?: unknown }[] } | undefined)?.errors;
  if (!Array.isArray(list)) return undefined;
  return list.map((e) => [e.field, e.message].filter((x) => typeof x === "string" && x).join(": ")).join("; ") || undefined;
}

/**
 * Mail Send limits (https://www.twilio.com/docs/sendgrid/api-reference/mail-send/mail-send and its
 * errors page): at most 1,000 personalizations and 1,000 recipients (to + cc + bcc) per request,
 * each address once across all personalizations, a personalization's substitutions at most
 * 10,000 bytes, and headers that may not be set.
 */
export const MAX_PERSONALIZATIONS = 1000;
const MAX_RECIPIENTS = 1000;
export const SUBSTITUTION_BYTES = 10_000;
const RESERVED_HEADERS = new Set([
  "x-sg-id",
  "x-sg-eid",
  "received",
  "dkim-signature",
  "content-type",
  "content-transfer-encoding",
  "to",
  "from",
  "subject",
  "reply-to",
  "cc",
  "bcc",
]);
/** Far below the 30 MB SendGrid takes; a request this size is split instead. */
const MAX_BODY_BYTES = 8 * 1024 * 1024;
/** What one substitution costs a personalization besides its value (see holeKey): key, quotes, colon, comma, one borrowed character. */
export const HOLE_COST = 56;
/** What factoring aims for: room is left for what JSON escapes add; the exact size is checked after. */
export const FACTOR_BUDGET = 9_000;

const utf8 = new TextEncoder();
export const byteLength = (text: string) => utf8.encode(text).length;

/** A substitution tag: `-herald-<nonce>-<part><n>-`. The nonce appears nowhere in the emails it is used for. */
export function holeKey(nonce: string, part: string, n: number): string {
  return `-herald-${nonce}-${part}${n}-`;
}

export function randomNonce(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(10)), (b) => b.toString(16).padStart(2, "0")).join("");
}

function addressesOf(e: OutboundEmail): string[] {
  return [...e.to, ...(e.cc ?? []), ...(e.bcc ?? [])].map((a) => parseMailbox(a)!.email.toLowerCase());
}

/** Whether an email can be one personalization of a shared request; the others go one per request, as before. */
export function groupable(e: OutboundEmail): boolean {
  const addresses = addressesOf(e);
  return (
    e.subject.length > 0 &&
    addresses.length <= MAX_RECIPIENTS &&
    new Set(addresses).size === addresses.length &&
    Object.keys(e.headers).every((name) => !RESERVED_HEADERS.has(name.toLowerCase()))
  );
}

/** Every string of an email that SendGrid could substitute in, or that could hold a tag. */
export function stringsOf(e: OutboundEmail): string[] {
  return [
    e.from,
    e.replyTo ?? "",
    e.subject,
    e.text ?? "",
    e.html ?? "",
    ...e.to,
    ...(e.cc ?? []),
    ...(e.bcc ?? []),
    ...Object.entries(e.headers).flat(),
  ];
}

/** The envelope of one email: its recipients, and what is its own. */
export function personalization(e: OutboundEmail) {
  return {
    to: e.to.map(mailbox),
    ...(e.cc?.length ? { cc: e.cc.map(mailbox) } : {}),
    ...(e.bcc?.length ? { bcc: e.bcc.map(mailbox) } : {}),
  };
}

/**
 * Fills requests in order, each within SendGrid's limits: personalizations, recipients, every
 * address once, and a body of at most MAX_BODY_BYTES.
 */
export function pack(batch: OutboundEmail[], fits: { i: number; json: string }[], sharedBytes: number) {
  const open: { items: { i: number; json: string }[]; recipients: number; addresses: Set<string>; bytes: number }[] = [];
  for (const item of fits) {
    const addresses = addressesOf(batch[item.i]!);
    const bytes = byteLength(item.json) + 1;
    let request = open.find(
      (r) =>
        r.items.length < MAX_PERSONALIZATIONS &&
        r.recipients + addresses.length <= MAX_RECIPIENTS &&
        r.bytes + bytes <= MAX_BODY_BYTES &&
        addresses.every((a) => !r.addresses.has(a)),
    );
    if (!request) {
      request = { items: [], recipients: 0, addresses: new Set(), bytes: sharedBytes + 32 };
      open.push(request);
    }
    request.items.push(item);
    request.recipients += addresses.length;
    request.bytes += bytes;
    for (const a of addresses) request.addresses.add(a);
  }
  return open.map((r) => r.items);
}
