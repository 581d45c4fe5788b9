import { clipCodePoints } from "../lib/text";
import { ProviderError, type SendResult } from "./types";

/**
 * A batch failed part-way: some emails were already settled (accepted or rejected) when a failure
 * stopped the rest. It is a ProviderError of the failure's kind, with its `ambiguousIds` and
 * `replay`: a caller records `settled` and handles the emails whose slot is undefined by the
 * failure (retries them when it is transient, never re-sends the ambiguous ones).
 */
export class PartialBatchError extends ProviderError {
  constructor(
    readonly failure: ProviderError,
    /** One slot per email of the batch, in order; undefined where the email was not settled. */
    readonly settled: (SendResult | undefined)[],
  ) {
    const done = settled.filter(Boolean).length;
    super(
      failure.kind,
      `${failure.message} (after ${done} of ${settled.length} emails were settled)`,
      failure.retryAfterSeconds,
      failure.ambiguousIds,
      failure.replay,
    );
    this.name = "PartialBatchError";
  }
}

/** Throws `failure` as is when nothing was settled, or wrapped with what was. */
export function failBatch(failure: ProviderError, settled: (SendResult | undefined)[]): never {
  const base = failure instanceof PartialBatchError ? failure.failure : failure;
  if (settled.some(Boolean)) throw new PartialBatchError(base, settled);
  throw base;
}

/** Real provider ids are under 100 characters; anything longer is not one, and is only kept bounded. */
const MAX_PROVIDER_ID = 256;

export function accepted(id: string, providerMessageId?: string): SendResult {
  // The id is the provider's text and is stored on the message and in its events (jsonb, which
  // refuses lone surrogates): well-formed and bounded like any other provider text.
  return providerMessageId
    ? { id, status: "accepted", providerMessageId: clipCodePoints(providerMessageId, MAX_PROVIDER_ID) }
    : { id, status: "accepted" };
}

export function rejected(id: string, error: string): SendResult {
  return { id, status: "rejected", error: clip(error) };
}

/**
 * Provider replies end up in logs, the database and API answers: one line, at most `max` code
 * points, never a lone surrogate.
 */
export function clip(text: string, max = 300): string {
  return clipCodePoints(text.replace(/\s+/g, " ").trim(), max);
}
