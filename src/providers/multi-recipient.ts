// For providers whose multi-recipient API takes one content template plus substitutions per
// recipient (SendGrid's personalizations): running provider calls that each cover one or more
// emails, here, and factoring the parts of a group of emails into the text they all share and the
// holes each email fills in (factor.ts, re-exported). See docs/decisions.md, "Multi-recipient
// provider calls".
import { clip, failBatch } from "./errors";
import { ProviderError, type OutboundEmail, type SendResult } from "./types";

export interface Call {
  /** The emails this call covers, in batch order (the same objects as in the batch). */
  emails: OutboundEmail[];
  /**
   * Makes the call, which may be several requests one after another. Each email is settled with
   * `settle(k, result)`, k its position in `emails`. A ProviderError leaves the rest unsettled; for
   * an ambiguous one, `ambiguousIds` names those that may have been accepted (undefined: all).
   */
  run(settle: (k: number, result: SendResult) => void): Promise<void>;
}

/**
 * sendEach for calls that cover several emails: at most `concurrency` calls at a time, none
 * started after the first failure, and one result per email in batch order. A call that fails
 * shares its fate with all its unsettled emails: when any call ended ambiguously the failure is
 * ambiguous and names exactly the emails of those calls; emails of calls that failed safely or
 * never started were not sent.
 */
export async function runCalls(batch: OutboundEmail[], calls: Call[], concurrency: number): Promise<SendResult[]> {
  const slotOf = new Map(batch.map((e, i) => [e, i]));
  const settled: (SendResult | undefined)[] = batch.map(() => undefined);
  const failures: ProviderError[] = [];
  const ambiguous = new Set<number>();
  let next = 0;
  const worker = async () => {
    while (failures.length === 0 && next < calls.length) {
      const call = calls[next++]!;
      const slots = call.emails.map((e) => slotOf.get(e)!);
      try {
        await call.run((k, result) => {
          if (result.id === batch[slots[k]!]!.id) settled[slots[k]!] = result;
        });
        const open = slots.filter((s) => !settled[s]).map((s) => batch[s]!.id);
        if (open.length > 0)
          throw new ProviderError("ambiguous", "the provider call ended without an answer for every email", undefined, open);
      } catch (err) {
        const open = slots.filter((s) => !settled[s]);
        const failure =
          err instanceof ProviderError
            ? err
            : new ProviderError(
                "ambiguous",
                `unexpected error while sending: ${clip(err instanceof Error ? `${err.name}: ${err.message}` : String(err), 200)}`,
              );
        failures.push(failure);
        if (failure.ambiguous) {
          const named = failure.ambiguousIds ? new Set(failure.ambiguousIds) : undefined;
          for (const s of open) if (!named || named.has(batch[s]!.id)) ambiguous.add(s);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, concurrency), calls.length) }, worker));
  if (failures.length === 0) return settled as SendResult[];
  const safe = failures.filter((f) => !f.ambiguous);
  if (ambiguous.size === 0) failBatch(safe[0] ?? failures[0]!, settled);
  const ids = [...ambiguous].sort((a, b) => a - b).map((s) => batch[s]!.id);
  const first = failures.find((f) => f.ambiguous)!;
  const message =
    ids.length > 1 || safe.length > 0
      ? `${first.message} (${ids.length} emails ambiguous${safe.length > 0 ? `; ${safe.length} calls failed safely: ${safe[0]!.message}` : ""})`
      : first.message;
  const retryAfter = Math.max(...failures.map((f) => f.retryAfterSeconds ?? -1));
  failBatch(new ProviderError("ambiguous", message, retryAfter >= 0 ? retryAfter : undefined, ids), settled);
}

/** Names the emails of a request in an ambiguous failure that does not name them yet. */
export function naming(err: unknown, emails: OutboundEmail[]): unknown {
  if (!(err instanceof ProviderError) || !err.ambiguous || err.ambiguousIds) return err;
  return new ProviderError(
    err.kind,
    err.message,
    err.retryAfterSeconds,
    emails.map((e) => e.id),
    err.replay,
  );
}
