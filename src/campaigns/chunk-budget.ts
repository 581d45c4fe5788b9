import type { LoadedProvider } from "../providers/registry";
import { limiterStub, type BatchLease } from "../services/durable-objects";
import { providerCalls } from "../sending/send-all";
import type { Claimed } from "../sending/store/message-rows";
import type { SendJob } from "./send-job";

// A chunk's share of what it may use: the invocation's budget of provider calls, a daily quota's
// remainder, and the tokens it leased but did not use.

/**
 * Takes the jobs whose provider calls, as the policy's first usable provider would make them, fit
 * in what is left of the invocation's budget; the rest go back to the queue at once, as new
 * messages, for another invocation. Per-email providers (SES, Mailgun) make one request
 * per recipient, so far fewer of their messages fit.
 */
export function withinBudget(
  jobs: SendJob[],
  policy: string[],
  providers: Map<string, LoadedProvider>,
  budget: { calls: number },
): SendJob[] {
  const first = policy.map((id) => providers.get(id)).find((p) => p?.enabled);
  if (!first) return jobs;
  const within: SendJob[] = [];
  let left = budget.calls;
  for (const job of jobs) {
    const calls = providerCalls(first, job.body.recipients.length);
    if (calls <= left) {
      left -= calls;
      within.push(job);
    } else job.requeue = [{ body: job.body, seconds: 0 }];
  }
  return within;
}

/**
 * Charges the budget with the calls of the provider each job was really leased from (a failover may
 * have picked one that is called per email); a job that no longer fits goes back to the queue, and
 * its unused tokens are refunded with the others'.
 */
export function chargeBudget(jobs: SendJob[], budget: { calls: number }) {
  for (const job of jobs) {
    if (!job.provider) continue;
    const calls = providerCalls(job.provider, job.body.recipients.length);
    if (calls <= budget.calls) budget.calls -= calls;
    else {
      job.provider = undefined;
      job.requeue = [{ body: job.body, seconds: 0 }];
    }
  }
}

/** The daily quota had room for part of a message: its first `tokens` recipients go now, the rest wait. */
export function splitPartial(job: SendJob, provider: LoadedProvider, tokens: number, waitSeconds: number) {
  const now = job.body.recipients.slice(0, tokens);
  const later = job.body.recipients.slice(tokens);
  job.body = { ...job.body, recipients: now };
  job.provider = provider;
  if (later.length > 0) job.requeue = [{ body: { ...job.body, recipients: later }, seconds: waitSeconds }];
}

/** Tokens leased for recipients that turned out to be claimed already (a duplicate delivery). */
export async function refundUnused(env: Env, leases: Map<string, BatchLease>, mine: Claimed[], providerOf: Map<string, string>) {
  const used = new Map<string, number>();
  for (const c of mine) {
    const provider = providerOf.get(c.contactId)!;
    used.set(provider, (used.get(provider) ?? 0) + 1);
  }
  const refunds: Promise<unknown>[] = [];
  for (const [providerId, lease] of leases) {
    const unused = lease.grantedTokens - (used.get(providerId) ?? 0);
    if (unused > 0)
      refunds.push(
        limiterStub(env, providerId)
          .refund(unused)
          .catch(() => {}),
      );
  }
  await Promise.all(refunds);
}
