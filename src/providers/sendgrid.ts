import { z } from "zod";
import { parseMailbox } from "./address";
import { runBatch } from "./batch";
import { ApiKey, BaseUrl, SendgridWebhookPublicKey, TimeoutMs } from "./config";
import { accepted, rejected } from "./errors";
import { commonFailure, httpCall, isSuccess, parseJson, SAFE_503, unreadableSuccess, type FetchFn, type HttpContext } from "./http";
import { factor, naming, runCalls, type Call, type Factored } from "./multi-recipient";
import { ProviderError, type EmailProvider, type OutboundEmail, type SendResult } from "./types";

export const SendgridConfig = z
  .object({
    base_url: BaseUrl.optional(),
    concurrency: z.number().int().min(1).max(50).optional(),
    timeout_ms: TimeoutMs,
    webhook_public_key: SendgridWebhookPublicKey.optional(),
  })
  .strict();

/** Where requests go without a base_url. */
export const SENDGRID_BASE_URL = "https://api.sendgrid.com";

export const SendgridCredentials = z.object({ api_key: ApiKey }).strict();

function mailbox(text: string) {
  const m = parseMailbox(text)!;
  return m.name ? { email: m.email, name: m.name } : { email: m.email };
}

/** SendGrid's errors come as {errors:[{message, field}]}. */
function errorsOf(body: unknown): string | undefined {
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
const MAX_PERSONALIZATIONS = 1000;
const MAX_RECIPIENTS = 1000;
const SUBSTITUTION_BYTES = 10_000;
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
const HOLE_COST = 56;
/** What factoring aims for: room is left for what JSON escapes add; the exact size is checked after. */
const FACTOR_BUDGET = 9_000;

const utf8 = new TextEncoder();
const byteLength = (text: string) => utf8.encode(text).length;

/** A substitution tag: `-herald-<nonce>-<part><n>-`. The nonce appears nowhere in the emails it is used for. */
function holeKey(nonce: string, part: string, n: number): string {
  return `-herald-${nonce}-${part}${n}-`;
}

function randomNonce(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(10)), (b) => b.toString(16).padStart(2, "0")).join("");
}

function addressesOf(e: OutboundEmail): string[] {
  return [...e.to, ...(e.cc ?? []), ...(e.bcc ?? [])].map((a) => parseMailbox(a)!.email.toLowerCase());
}

/** Whether an email can be one personalization of a shared request; the others go one per request, as before. */
function groupable(e: OutboundEmail): boolean {
  const addresses = addressesOf(e);
  return (
    e.subject.length > 0 &&
    addresses.length <= MAX_RECIPIENTS &&
    new Set(addresses).size === addresses.length &&
    Object.keys(e.headers).every((name) => !RESERVED_HEADERS.has(name.toLowerCase()))
  );
}

/** Every string of an email that SendGrid could substitute in, or that could hold a tag. */
function stringsOf(e: OutboundEmail): string[] {
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

export function createSendgridProvider(
  config: z.infer<typeof SendgridConfig>,
  credentials: z.infer<typeof SendgridCredentials>,
  fetch: FetchFn,
): EmailProvider {
  // SendGrid's v3 docs: 503 "the v3 Web API is not available"; a 500 is "an error occurred when
  // SendGrid attempted to process" the request, with no promise that nothing was sent: ambiguous.
  const ctx: HttpContext = { provider: "sendgrid", fetch, timeoutMs: config.timeout_ms ?? 15_000, safe5xx: SAFE_503 };
  const url = `${config.base_url ?? SENDGRID_BASE_URL}/v3/mail/send`;
  const post = (body: string) =>
    httpCall(ctx, url, {
      method: "POST",
      headers: { authorization: `Bearer ${credentials.api_key}`, "content-type": "application/json" },
      body,
    });

  /** The envelope of one email: its recipients, and what is its own. */
  function personalization(e: OutboundEmail) {
    return {
      to: e.to.map(mailbox),
      ...(e.cc?.length ? { cc: e.cc.map(mailbox) } : {}),
      ...(e.bcc?.length ? { bcc: e.bcc.map(mailbox) } : {}),
    };
  }

  async function sendOne(e: OutboundEmail): Promise<SendResult> {
    const content = [...(e.text ? [{ type: "text/plain", value: e.text }] : []), ...(e.html ? [{ type: "text/html", value: e.html }] : [])];
    const body = {
      personalizations: [personalization(e)],
      from: mailbox(e.from),
      ...(e.replyTo ? { reply_to: mailbox(e.replyTo) } : {}),
      subject: e.subject,
      content,
      ...(Object.keys(e.headers).length ? { headers: e.headers } : {}),
      custom_args: { herald_id: e.id },
    };
    const answer = await post(JSON.stringify(body));
    const json = parseJson(answer.text);
    const failure = commonFailure(ctx, answer, errorsOf(json));
    if (failure) throw failure;
    // 202 (queued) and 200 (sandbox mode) carry no body; the status is the answer.
    if (answer.status === 202 || answer.status === 200) return accepted(e.id, answer.headers.get("x-message-id") ?? undefined);
    if (isSuccess(answer)) throw unreadableSuccess(ctx, answer, "202 Accepted");
    if (answer.status === 400 || answer.status === 413)
      return rejected(e.id, `sendgrid ${answer.status}: ${errorsOf(json) ?? "bad request"}`);
    throw new ProviderError("misconfigured", `sendgrid answered ${answer.status}: ${errorsOf(json) ?? "no details"}`);
  }

  /** One personalization of a shared request: its email, its position in its call, and its JSON. */
  interface Member {
    email: OutboundEmail;
    k: number;
    json: string;
  }

  /**
   * One request for several emails that share `shared` (from, reply_to, content). A 400 or 413
   * refuses the whole request and sends nothing, so its emails go again in halves, down to one
   * email in the one-email form, which is then refused on its own. Any other failure is the
   * request's: an ambiguous one names all its emails.
   */
  async function sendShared(shared: string, members: Member[], settle: (k: number, r: SendResult) => void): Promise<void> {
    if (members.length === 1) {
      settle(members[0]!.k, await sendOne(members[0]!.email).catch((err: unknown) => Promise.reject(naming(err, [members[0]!.email]))));
      return;
    }
    const emails = members.map((m) => m.email);
    const body = `{"personalizations":[${members.map((m) => m.json).join(",")}],${shared}}`;
    try {
      const answer = await post(body);
      const json = parseJson(answer.text);
      const failure = commonFailure(ctx, answer, errorsOf(json));
      if (failure) throw failure;
      if (answer.status === 202 || answer.status === 200) {
        // One X-Message-Id for the request; SendGrid's events carry it with a suffix per recipient.
        const id = answer.headers.get("x-message-id") ?? undefined;
        for (const m of members) settle(m.k, accepted(m.email.id, id));
        return;
      }
      if (isSuccess(answer)) throw unreadableSuccess(ctx, answer, "202 Accepted");
      if (answer.status !== 400 && answer.status !== 413)
        throw new ProviderError("misconfigured", `sendgrid answered ${answer.status}: ${errorsOf(json) ?? "no details"}`);
    } catch (err) {
      throw naming(err, emails);
    }
    const half = Math.ceil(members.length / 2);
    await sendShared(shared, members.slice(0, half), settle);
    await sendShared(shared, members.slice(half), settle);
  }

  /** The calls for a chunk: shared requests for the emails that fit one, one request for each other email. */
  function plan(batch: OutboundEmail[]): Call[] {
    const calls: { first: number; call: Call }[] = [];
    const single = (i: number) =>
      calls.push({ first: i, call: { emails: [batch[i]!], run: async (settle) => settle(0, await sendOne(batch[i]!)) } });
    const groups = new Map<string, number[]>();
    batch.forEach((e, i) => {
      if (!groupable(e)) return single(i);
      const key = JSON.stringify([e.from, e.replyTo ?? null, Boolean(e.text), Boolean(e.html)]);
      const group = groups.get(key);
      if (group) group.push(i);
      else groups.set(key, [i]);
    });
    for (const indexes of groups.values()) {
      const nonce = randomNonce();
      const usable = indexes.filter((i) => stringsOf(batch[i]!).every((s) => !s.includes(nonce)));
      if (usable.length < 2) {
        indexes.forEach((i) => single(i));
        continue;
      }
      const kept = new Set(usable);
      indexes.filter((i) => !kept.has(i)).forEach((i) => single(i));
      const first = batch[usable[0]!]!;
      const names = [...(first.text ? ["t"] : []), ...(first.html ? ["h"] : [])];
      const texts = usable.map((i) => [...(batch[i]!.text ? [batch[i]!.text!] : []), ...(batch[i]!.html ? [batch[i]!.html!] : [])]);
      const { groups: factored, rest } = factor(texts, { budget: FACTOR_BUDGET, holeCost: HOLE_COST });
      rest.forEach((r) => single(usable[r]!));
      for (const g of factored) {
        const template = (part: Factored, name: string) =>
          part.pieces.map((p) => (typeof p === "number" ? holeKey(nonce, name, p) : p)).join("");
        const content = g.parts.map((part, p) => ({
          type: names[p] === "t" ? "text/plain" : "text/html",
          value: template(part, names[p]!),
        }));
        const shared = JSON.stringify({
          from: mailbox(first.from),
          ...(first.replyTo ? { reply_to: mailbox(first.replyTo) } : {}),
          content,
        }).slice(1, -1);
        const fits: { i: number; json: string }[] = [];
        g.members.forEach((m, k) => {
          const e = batch[usable[m]!]!;
          const substitutions: Record<string, string> = {};
          g.parts.forEach((part, p) => part.values[k]!.forEach((v, h) => (substitutions[holeKey(nonce, names[p]!, h)] = v)));
          // The documented limit, counted on the JSON (quotes, escapes and all), which is more than it.
          if (byteLength(JSON.stringify(substitutions)) > SUBSTITUTION_BYTES) return single(usable[m]!);
          const json = JSON.stringify({
            ...personalization(e),
            subject: e.subject,
            ...(Object.keys(e.headers).length ? { headers: e.headers } : {}),
            ...(Object.keys(substitutions).length ? { substitutions } : {}),
            custom_args: { herald_id: e.id },
          });
          fits.push({ i: usable[m]!, json });
        });
        for (const request of pack(batch, fits, byteLength(shared))) {
          if (request.length === 1) {
            single(request[0]!.i);
            continue;
          }
          const emails = request.map((r) => batch[r.i]!);
          const members = request.map((r, k) => ({ email: batch[r.i]!, k, json: r.json }));
          calls.push({ first: request[0]!.i, call: { emails, run: (settle) => sendShared(shared, members, settle) } });
        }
      }
    }
    return calls.sort((a, b) => a.first - b.first).map((c) => c.call);
  }

  const concurrency = config.concurrency ?? 10;
  return {
    kind: "sendgrid",
    maxBatchSize: MAX_PERSONALIZATIONS,
    send: (batch) => runBatch(batch, MAX_PERSONALIZATIONS, (emails) => runCalls(emails, plan(emails), concurrency)),
  };
}

/**
 * Fills requests in order, each within SendGrid's limits: personalizations, recipients, every
 * address once, and a body of at most MAX_BODY_BYTES.
 */
function pack(batch: OutboundEmail[], fits: { i: number; json: string }[], sharedBytes: number) {
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
