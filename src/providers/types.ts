import type { ProviderKind } from "../db/schema";
import { clipCodePoints } from "../lib/text";

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

export type ProviderFailureKind = "rate_limited" | "unavailable" | "timeout" | "ambiguous" | "auth" | "misconfigured";

/** The exact bytes of one request to a provider that honours an idempotency key for it. */
export interface PreparedRequest {
  /** The idempotency key the request is sent with. */
  key: string;
  /** The request body, byte for byte. */
  body: string;
}

/**
 * A call to a provider failed. What it means for the emails of the call that are not settled (see
 * PartialBatchError for the ones that are):
 * - rate_limited / unavailable / timeout (`transient`): the provider did not accept them; the caller
 *   retries with backoff (and counts them toward the circuit breaker).
 * - ambiguous: the request may have been accepted (a timeout or lost connection after it was sent,
 *   a gateway error, a success answer that cannot be read). The emails in `ambiguousIds` must never
 *   be re-sent as new mail: that could mail a recipient twice. The only safe repeat is `replay`, when
 *   the provider offers one. Unsettled emails not in `ambiguousIds` were not sent and are safe to
 *   retry.
 * - auth / misconfigured: the provider refused the call; the tenant has to fix something, and
 *   retrying will not help. Nothing was sent.
 */
export class ProviderError extends Error {
  constructor(
    readonly kind: ProviderFailureKind,
    message: string,
    readonly retryAfterSeconds?: number,
    /**
     * For `ambiguous`: the ids (OutboundEmail.id) of the unsettled emails that may have been
     * accepted, in the batch's order. Undefined means every unsettled email of the call.
     * The adapters' send() always lists them.
     */
    readonly ambiguousIds?: string[],
    /**
     * For `ambiguous`, from providers with `idempotent` only: the exact request that may have been
     * accepted. Sending it again with `idempotent.sendPrepared(replay, ambiguousIds)` cannot mail
     * anyone twice. It covers exactly the emails in `ambiguousIds`.
     */
    readonly replay?: PreparedRequest,
  ) {
    // Provider texts end up in the database and in API answers: well-formed and bounded.
    super(clipCodePoints(message, 1000));
    this.name = "ProviderError";
  }

  /** Not accepted, and worth retrying later. */
  get transient(): boolean {
    return this.kind === "rate_limited" || this.kind === "unavailable" || this.kind === "timeout";
  }

  /** Maybe accepted: never re-send these emails as new mail. */
  get ambiguous(): boolean {
    return this.kind === "ambiguous";
  }
}

export interface EmailProvider {
  readonly kind: ProviderKind;
  /** The most emails one send() call accepts; callers split larger batches. */
  readonly maxBatchSize: number;
  /**
   * Sends a batch, using the provider's batch endpoint where it has one. Resolves with one result
   * per email, in order; rejects with a ProviderError (a PartialBatchError when some emails were
   * settled) and with nothing else.
   */
  send(batch: OutboundEmail[]): Promise<SendResult[]>;
  /**
   * Providers that honour an idempotency key for a whole request: the exact request of a batch, so
   * an ambiguous batch can be replayed byte for byte.
   */
  idempotent?: {
    /** The request send() would make for this batch (at most maxBatchSize emails). */
    prepare(batch: OutboundEmail[]): Promise<PreparedRequest>;
    /** Sends exactly this request again with its key; `ids` are the batch's email ids in order. */
    sendPrepared(request: PreparedRequest, ids: string[]): Promise<SendResult[]>;
  };
}
