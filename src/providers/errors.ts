import { ProviderError, type SendResult } from "./types";

/**
 * A batch failed part-way: some emails were already settled (accepted or rejected) when a transient
 * or account-level failure stopped the rest. It is a ProviderError, so a caller that knows nothing
 * of it retries the whole batch (at-least-once); a caller that does can record `settled` and retry
 * only the emails whose slot is undefined.
 */
export class PartialBatchError extends ProviderError {
  constructor(
    readonly failure: ProviderError,
    /** One slot per email of the batch, in order; undefined where the email was not settled. */
    readonly settled: (SendResult | undefined)[],
  ) {
    const done = settled.filter(Boolean).length;
    super(failure.kind, `${failure.message} (after ${done} of ${settled.length} emails were settled)`, failure.retryAfterSeconds);
    this.name = "PartialBatchError";
  }
}

/** Throws `failure` as is when nothing was settled, or wrapped with what was. */
export function failBatch(failure: ProviderError, settled: (SendResult | undefined)[]): never {
  const base = failure instanceof PartialBatchError ? failure.failure : failure;
  if (settled.some(Boolean)) throw new PartialBatchError(base, settled);
  throw base;
}

export function accepted(id: string, providerMessageId?: string): SendResult {
  return providerMessageId ? { id, status: "accepted", providerMessageId } : { id, status: "accepted" };
}

export function rejected(id: string, error: string): SendResult {
  return { id, status: "rejected", error: clip(error) };
}

/** Provider replies end up in logs and API answers; keep them short and on one line. */
export function clip(text: string, max = 300): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
