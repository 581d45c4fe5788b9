import type { ProviderKind } from "../db/schema";

/** One rendered email, ready for a provider. */
export interface OutboundEmail {
  /** herald's message id (the messages row id); providers echo it back in results. */
  id: string;
  from: string;
  to: string[];
  cc?: string[];
  bcc?: string[];
  replyTo?: string;
  subject: string;
  html?: string | null;
  text?: string | null;
  /** Extra headers (List-Unsubscribe, X-Herald-*, …). Never contains CR or LF. */
  headers: Record<string, string>;
}

/** The outcome for one email of a batch, in the batch's order. */
export interface SendResult {
  id: string;
  status: "accepted" | "rejected";
  /** The provider's own id for the message, when it gives one. */
  providerMessageId?: string;
  /** Why it was rejected; a permanent, per-recipient error that must not be retried. */
  error?: string;
}

export type ProviderFailureKind = "rate_limited" | "unavailable" | "timeout" | "auth" | "misconfigured";

/**
 * The whole batch failed and nothing was accepted. rate_limited/unavailable/timeout are transient:
 * the caller retries with backoff (and counts them toward the circuit breaker). auth/misconfigured
 * are the tenant's to fix: retrying will not help.
 */
export class ProviderError extends Error {
  constructor(
    readonly kind: ProviderFailureKind,
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = "ProviderError";
  }

  get transient(): boolean {
    return this.kind === "rate_limited" || this.kind === "unavailable" || this.kind === "timeout";
  }
}

export interface EmailProvider {
  readonly kind: ProviderKind;
  /** The most emails one send() call accepts; callers split larger batches. */
  readonly maxBatchSize: number;
  /**
   * Sends a batch, using the provider's batch endpoint where it has one. Resolves with one result
   * per email, in order; rejects with ProviderError when the batch as a whole failed.
   */
  send(batch: OutboundEmail[]): Promise<SendResult[]>;
}
