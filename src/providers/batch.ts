import { clip, failBatch, PartialBatchError, rejected } from "./errors";
import { emailProblem } from "./validate";
import { ProviderError, type OutboundEmail, type SendResult } from "./types";

export type SendChunk = (emails: OutboundEmail[]) => Promise<SendResult[]>;

/**
 * Anything but a ProviderError out of a send is a bug; it may have struck after the request went
 * out, so the emails it concerns count as ambiguous rather than as safe to retry.
 */
function unexpected(err: unknown, ids: string[]): ProviderError {
  const what = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return new ProviderError("ambiguous", `unexpected error while sending: ${clip(what, 200)}`, undefined, ids);
}

/**
 * The shape every adapter shares: emails that can never be sent are rejected up front, the rest go
 * out in chunks of at most `chunkSize`, and the answer has exactly one result per email, in order.
 * The first failing chunk stops the batch; later chunks are not sent (safe to retry). An ambiguous
 * failure always names its emails in `ambiguousIds`.
 */
export async function runBatch(batch: OutboundEmail[], chunkSize: number, sendChunk: SendChunk): Promise<SendResult[]> {
  const settled: (SendResult | undefined)[] = batch.map(() => undefined);
  const pending: number[] = [];
  for (const [i, email] of batch.entries()) {
    const why = emailProblem(email);
    if (why) settled[i] = rejected(email.id, why);
    else pending.push(i);
  }
  for (let start = 0; start < pending.length; start += chunkSize) {
    const slots = pending.slice(start, start + chunkSize);
    const emails = slots.map((i) => batch[i]!);
    let results: SendResult[];
    try {
      results = await sendChunk(emails);
    } catch (err) {
      const failure =
        err instanceof ProviderError
          ? err
          : unexpected(
              err,
              emails.map((e) => e.id),
            );
      const chunkSettled = failure instanceof PartialBatchError ? failure.settled : [];
      for (const [k, r] of chunkSettled.entries()) if (r) settled[slots[k]!] = r;
      failBatch(explicit(failure, emails, chunkSettled), settled);
    }
    // A success answer that does not fit the batch: the provider may have taken all of it.
    if (results.length !== emails.length || results.some((r, i) => r.id !== emails[i]!.id)) {
      const ids = emails.map((e) => e.id);
      failBatch(new ProviderError("ambiguous", "the provider's answer did not match the batch it was sent", undefined, ids), settled);
    }
    for (const [k, slot] of slots.entries()) settled[slot] = results[k];
  }
  return settled as SendResult[];
}

/** An ambiguous chunk failure with its emails named: by default, every email of the chunk it left unsettled. */
function explicit(failure: ProviderError, emails: OutboundEmail[], chunkSettled: (SendResult | undefined)[]): ProviderError {
  const base = failure instanceof PartialBatchError ? failure.failure : failure;
  if (!base.ambiguous || base.ambiguousIds) return base;
  const ids = emails.filter((_, k) => !chunkSettled[k]).map((e) => e.id);
  return new ProviderError("ambiguous", base.message, base.retryAfterSeconds, ids, base.replay);
}

/**
 * For providers without a batch endpoint: one request per email, at most `concurrency` at a time.
 * The first failed request stops new sends (hammering a throttled provider helps nobody); requests
 * already in flight run to their end, and what they settled is kept. When any request ended
 * ambiguously the failure is ambiguous and names exactly those emails, whatever else failed; the
 * other unsettled emails (failed safely, or never started) were not sent.
 */
export async function sendEach(
  emails: OutboundEmail[],
  concurrency: number,
  sendOne: (email: OutboundEmail) => Promise<SendResult>,
): Promise<SendResult[]> {
  const settled: (SendResult | undefined)[] = emails.map(() => undefined);
  const failures: ProviderError[] = [];
  const ambiguousIds: string[] = [];
  let next = 0;
  const worker = async () => {
    while (failures.length === 0 && next < emails.length) {
      const i = next++;
      const email = emails[i]!;
      try {
        settled[i] = await sendOne(email);
      } catch (err) {
        const failure = err instanceof ProviderError ? err : unexpected(err, [email.id]);
        failures.push(failure);
        if (failure.ambiguous) ambiguousIds.push(email.id);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, emails.length) }, worker));
  if (failures.length === 0) return settled as SendResult[];
  if (ambiguousIds.length === 0) failBatch(failures[0]!, settled);
  // Listed in batch order, like every other ambiguousIds.
  const order = new Map(emails.map((e, i) => [e.id, i]));
  ambiguousIds.sort((a, b) => order.get(a)! - order.get(b)!);
  const first = failures.find((f) => f.ambiguous)!;
  const others = failures.length - ambiguousIds.length;
  const message =
    ambiguousIds.length > 1 || others > 0
      ? `${first.message} (${ambiguousIds.length} emails ambiguous${others > 0 ? `; ${others} failed safely: ${failures.find((f) => !f.ambiguous)!.message}` : ""})`
      : first.message;
  const retryAfter = Math.max(...failures.map((f) => f.retryAfterSeconds ?? -1));
  failBatch(new ProviderError("ambiguous", message, retryAfter >= 0 ? retryAfter : undefined, ambiguousIds), settled);
}
