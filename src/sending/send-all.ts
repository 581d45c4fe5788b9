import type { Outcome } from "./store/message-rows";
import type { LoadedProvider } from "../providers/registry";
import { PartialBatchError } from "../providers/errors";
import { ProviderError, type OutboundEmail, type PreparedRequest, type SendResult } from "../providers/types";

/** The exact request of an ambiguous batch, for a provider that honours its idempotency key. */
export interface PendingReplay {
  request: PreparedRequest;
  /** The request's emails in order: every one of them is `replaying`. */
  ids: string[];
}

export interface SendAllResult {
  outcomes: Outcome[];
  /** Emails known not to have reached the provider: give their claims back and retry. */
  release: string[];
  replays: PendingReplay[];
  failure?: ProviderError;
}

/** Providers called once per email (SES, Mailgun): one HTTP request, one subrequest, each. SendGrid carries up to 1,000 emails per request. */
const PER_EMAIL = new Set(["ses", "mailgun"]);

/** How many outgoing requests sending `emails` emails through `chosen` takes; for sizing an invocation's work. */
export function providerCalls(chosen: Pick<LoadedProvider, "kind" | "provider">, emails: number): number {
  if (PER_EMAIL.has(chosen.kind)) return emails;
  return Math.ceil(emails / Math.max(1, chosen.provider.maxBatchSize));
}

/**
 * Sends in the provider's batch sizes and sorts every email into exactly one bucket by what the
 * provider's answer proves:
 * - settled (accepted or rejected per email): its outcome;
 * - refused as a whole by an answer that means "not accepted" (429, a documented retryable 5xx, an
 *   SMTP connection refused; workerd's fetch reports every lost connection alike, so over HTTP a
 *   refused connection is ambiguous): released for a retry, with the rest of the batch;
 * - ambiguous (a timeout after sending, a reset, a gateway 502/504, an unreadable 2xx): `unknown`,
 *   never sent again automatically, or `replaying` when the provider can replay the exact request
 *   under its idempotency key;
 * - refused for good (bad credentials, misconfiguration): failed, with the rest of the batch.
 * It stops at the first whole-call failure: hammering a failing provider helps nobody.
 */
export async function sendAll(chosen: LoadedProvider, emails: OutboundEmail[]): Promise<SendAllResult> {
  const outcomes: Outcome[] = [];
  const release: string[] = [];
  const replays: PendingReplay[] = [];
  const size = Math.max(1, chosen.provider.maxBatchSize);
  for (let i = 0; i < emails.length; i += size) {
    const chunk = emails.slice(i, i + size);
    let results: (SendResult | undefined)[];
    let failure: ProviderError | undefined;
    try {
      results = await chosen.provider.send(chunk);
    } catch (err) {
      // Anything but a ProviderError is a fault of ours mid-call: the request may have gone out.
      failure = err instanceof ProviderError ? err : new ProviderError("ambiguous", "the provider call failed unexpectedly");
      results = err instanceof PartialBatchError ? err.settled : [];
    }
    const byId = new Map(results.filter((r): r is SendResult => r !== undefined).map((r) => [r.id, r]));
    if (!failure) {
      for (const e of chunk) {
        const r = byId.get(e.id);
        outcomes.push(r ? toOutcome(e.id, r) : { id: e.id, status: "failed", error: "provider returned no result for this message" });
      }
      continue;
    }
    const unsettled = chunk.filter((e) => !byId.has(e.id)).map((e) => e.id);
    const ambiguous = new Set(failure.ambiguous ? (failure.ambiguousIds ?? unsettled) : []);
    const replay = failure.ambiguous && failure.replay ? failure.replay : undefined;
    // The replayed request holds exactly the emails the provider was sent (those it refused up front
    // are not in it), which for an idempotent provider are the ambiguous ones, in request order.
    if (replay && ambiguous.size > 0) replays.push({ request: replay, ids: [...ambiguous] });
    const retryable = failure.transient || failure.ambiguous;
    for (const e of chunk) {
      const r = byId.get(e.id);
      if (r) outcomes.push(toOutcome(e.id, r));
      else if (ambiguous.has(e.id)) {
        outcomes.push(
          replay
            ? { id: e.id, status: "replaying", error: `outcome_unknown: ${failure.message}; replaying with the idempotency key` }
            : { id: e.id, status: "unknown", error: `outcome_unknown: ${failure.message}` },
        );
      } else if (retryable) release.push(e.id);
      else outcomes.push({ id: e.id, status: "failed", error: `provider ${failure.kind}: ${failure.message}` });
    }
    for (const e of emails.slice(i + size)) {
      if (retryable) release.push(e.id);
      else outcomes.push({ id: e.id, status: "failed", error: `provider ${failure.kind}: ${failure.message}` });
    }
    return { outcomes, release, replays, failure };
  }
  return { outcomes, release, replays };
}

export function toOutcome(id: string, r: SendResult): Outcome {
  return r.status === "accepted"
    ? { id, status: "sent", providerMessageId: r.providerMessageId }
    : { id, status: "failed", error: r.error ?? "rejected by the provider" };
}
