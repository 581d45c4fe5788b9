// How a chunk of emails becomes SendGrid calls: emails alike enough share requests (one content
// template, a personalization with substitutions per email), the others go one per request.
import { factor, type Factored } from "./factor";
import type { Call } from "./multi-recipient";
import {
  byteLength,
  FACTOR_BUDGET,
  groupable,
  HOLE_COST,
  holeKey,
  mailbox,
  pack,
  personalization,
  randomNonce,
  stringsOf,
  SUBSTITUTION_BYTES,
} from "./sendgrid-request";
import type { OutboundEmail, SendResult } from "./types";

/** One personalization of a shared request: its email, its position in its call, and its JSON. */
export interface Member {
  email: OutboundEmail;
  k: number;
  json: string;
}

/** The two kinds of request a plan's calls make. */
export interface SendgridRequests {
  sendOne(e: OutboundEmail): Promise<SendResult>;
  sendShared(shared: string, members: Member[], settle: (k: number, r: SendResult) => void): Promise<void>;
}

/** The calls for a chunk: shared requests for the emails that fit one, one request for each other email. */
export function plan(batch: OutboundEmail[], send: SendgridRequests): Call[] {
  const calls: { first: number; call: Call }[] = [];
  const single = (i: number) => {
    calls.push({ first: i, call: { emails: [batch[i]!], run: async (settle) => settle(0, await send.sendOne(batch[i]!)) } });
  };
  const groups = new Map<string, number[]>();
  for (const [i, e] of batch.entries()) {
    if (!groupable(e)) {
      single(i);
      continue;
    }
    const key = JSON.stringify([e.from, e.replyTo ?? null, Boolean(e.text), Boolean(e.html)]);
    const group = groups.get(key);
    if (group) group.push(i);
    else groups.set(key, [i]);
  }
  for (const indexes of groups.values()) {
    const nonce = randomNonce();
    const usable = indexes.filter((i) => stringsOf(batch[i]!).every((s) => !s.includes(nonce)));
    if (usable.length < 2) {
      for (const i of indexes) single(i);
      continue;
    }
    const kept = new Set(usable);
    for (const i of indexes) if (!kept.has(i)) single(i);
    const first = batch[usable[0]!]!;
    const names = [...(first.text ? ["t"] : []), ...(first.html ? ["h"] : [])];
    const texts = usable.map((i) => [...(batch[i]!.text ? [batch[i]!.text!] : []), ...(batch[i]!.html ? [batch[i]!.html!] : [])]);
    const { groups: factored, rest } = factor(texts, { budget: FACTOR_BUDGET, holeCost: HOLE_COST });
    for (const r of rest) single(usable[r]!);
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
      for (const [k, m] of g.members.entries()) {
        const e = batch[usable[m]!]!;
        const substitutions: Record<string, string> = {};
        for (const [p, part] of g.parts.entries()) {
          for (const [h, v] of part.values[k]!.entries()) substitutions[holeKey(nonce, names[p]!, h)] = v;
        }
        // The documented limit, counted on the JSON (quotes, escapes and all), which is more than it.
        if (byteLength(JSON.stringify(substitutions)) > SUBSTITUTION_BYTES) {
          single(usable[m]!);
          continue;
        }
        const json = JSON.stringify({
          ...personalization(e),
          subject: e.subject,
          ...(Object.keys(e.headers).length ? { headers: e.headers } : {}),
          ...(Object.keys(substitutions).length ? { substitutions } : {}),
          custom_args: { herald_id: e.id },
        });
        fits.push({ i: usable[m]!, json });
      }
      for (const request of pack(batch, fits, byteLength(shared))) {
        if (request.length === 1) {
          single(request[0]!.i);
          continue;
        }
        const emails = request.map((r) => batch[r.i]!);
        const members = request.map((r, k) => ({ email: batch[r.i]!, k, json: r.json }));
        calls.push({ first: request[0]!.i, call: { emails, run: (settle) => send.sendShared(shared, members, settle) } });
      }
    }
  }
  return calls.sort((a, b) => a.first - b.first).map((c) => c.call);
}
