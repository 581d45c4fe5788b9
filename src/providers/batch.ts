import { failBatch, PartialBatchError, rejected } from "./errors";
import { emailProblem } from "./validate";
import { ProviderError, type OutboundEmail, type SendResult } from "./types";

export type SendChunk = (emails: OutboundEmail[]) => Promise<SendResult[]>;

/**
 * The shape every adapter shares: emails that can never be sent are rejected up front, the rest go
 * out in chunks of at most `chunkSize`, and the answer has exactly one result per email, in order.
 */
export async function runBatch(batch: OutboundEmail[], chunkSize: number, sendChunk: SendChunk): Promise<SendResult[]> {
  const settled: (SendResult | undefined)[] = batch.map(() => undefined);
  const pending: number[] = [];
  batch.forEach((email, i) => {
    const why = emailProblem(email);
    if (why) settled[i] = rejected(email.id, why);
    else pending.push(i);
  });
  for (let start = 0; start < pending.length; start += chunkSize) {
    const slots = pending.slice(start, start + chunkSize);
    const emails = slots.map((i) => batch[i]!);
    try {
      const results = await sendChunk(emails);
      checkResults(emails, results);
      slots.forEach((slot, k) => (settled[slot] = results[k]));
    } catch (err) {
      if (!(err instanceof ProviderError)) throw err;
      if (err instanceof PartialBatchError) err.settled.forEach((r, k) => r && (settled[slots[k]!] = r));
      failBatch(err, settled);
    }
  }
  return settled as SendResult[];
}

function checkResults(emails: OutboundEmail[], results: SendResult[]) {
  if (results.length !== emails.length || results.some((r, i) => r.id !== emails[i]!.id)) {
    throw new ProviderError("unavailable", "the provider's answer did not match the batch it was sent");
  }
}

/**
 * For providers without a batch endpoint: one request per email, at most `concurrency` at a time.
 * The first whole-request failure stops new sends (hammering a throttled provider helps nobody);
 * what already finished is kept.
 */
export async function sendEach(
  emails: OutboundEmail[],
  concurrency: number,
  sendOne: (email: OutboundEmail) => Promise<SendResult>,
): Promise<SendResult[]> {
  const settled: (SendResult | undefined)[] = emails.map(() => undefined);
  let next = 0;
  let failure: ProviderError | undefined;
  const worker = async () => {
    while (!failure && next < emails.length) {
      const i = next++;
      try {
        settled[i] = await sendOne(emails[i]!);
      } catch (err) {
        if (!(err instanceof ProviderError)) throw err;
        failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, emails.length) }, worker));
  if (failure) failBatch(failure, settled);
  return settled as SendResult[];
}
