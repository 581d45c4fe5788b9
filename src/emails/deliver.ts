import type { TransactionalMessage } from "./queue";
import { claimEmails, requeueEmails, setEmailStatuses, skipSuppressed, type ClaimedEmail } from "./delivery-rows";
import { publishEvents, sendOutcomeEvent, type EventInput } from "../events/message";
import { groupBy } from "../lib/collections";
import type { LoadedProvider } from "../providers/registry";
import type { OutboundEmail } from "../providers/types";
import type { Db } from "../services/db";
import type { BatchLease } from "../services/durable-objects";
import type { Logger } from "../services/logger";
import { leaseInPolicyOrder, reportLeaseOutcomes } from "../sending/policy-lease";
import { policyProviders, tenantPolicy } from "../sending/policy-providers";
import { sendAll } from "../sending/send-all";
import { markSending, recordOutcomes, releaseClaims, type Outcome } from "../sending/store/message-rows";
import { storeReplays } from "../sending/store/replay-rows";
import { recipientKey, suppressedAmong } from "../suppressions/store";
import { decorate } from "../tracking/links";

/** One transactional email's queue message, as the sender sees it. */
export interface EmailJob {
  body: TransactionalMessage;
  /** How many times its queue message has been delivered, this delivery included. */
  attempts: number;
  email?: ClaimedEmail;
  /** Retry the queue message after this many seconds. */
  retryAfter?: number;
}

export interface DeliveryDeps {
  env: Env;
  db: Db;
  logger: Logger;
  /** The queue's retry delay after this many deliveries. */
  backoff: (attempts: number) => number;
}

/**
 * Sends one tenant's share of a herald-transactional batch. One statement claims the emails in the
 * message log (so a duplicate queue message sends nothing), one reads suppressions again (an
 * address suppressed since acceptance is dropped), providers are leased in priority order, and the
 * outcomes are recorded in the message log and on the email. Each job leaves with `retryAfter`
 * set when its queue message should be retried; a throw retries them all.
 */
export async function sendTenantEmails(tenantId: string, jobs: EmailJob[], d: DeliveryDeps): Promise<void> {
  const claimed = await claimEmails(
    d.db,
    tenantId,
    jobs.map((j) => j.body),
  );
  const byId = new Map(claimed.map((e) => [e.id, e]));
  // A message whose email is not claimable was sent, cancelled or is being sent by another delivery: ack it.
  const live = jobs.filter((j) => {
    j.email = byId.get(j.body.email_id);
    byId.delete(j.body.email_id);
    return j.email !== undefined;
  });
  if (live.length === 0) return;
  const handedOver = { value: false };
  try {
    await deliver(tenantId, live, d, handedOver);
  } catch (err) {
    // Before any provider call the claims can be given back, so the retry sends them. After it, a
    // claim may stand for accepted mail: it stays, and the sweep settles it as outcome_unknown.
    if (!handedOver.value) await releaseEmails(d.db, tenantId, live).catch((e) => d.logger.warn("could not release claims", { err: e }));
    throw err;
  }
}

async function deliver(tenantId: string, live: EmailJob[], { env, db, logger, backoff }: DeliveryDeps, handedOver: { value: boolean }) {
  const suppressed = await suppressedAmong(
    db,
    tenantId,
    live.flatMap((j) => [...j.email!.to_addresses, ...j.email!.cc_addresses, ...j.email!.bcc_addresses]),
  );
  const keep = (list: string[]) => list.filter((a) => !suppressed.has(recipientKey(a)));
  const skipped: EmailJob[] = [];
  const sendable: EmailJob[] = [];
  for (const job of live) {
    const e = job.email!;
    const to = keep(e.to_addresses);
    if (to.length === 0) skipped.push(job);
    else {
      job.email = { ...e, to_addresses: to, cc_addresses: keep(e.cc_addresses), bcc_addresses: keep(e.bcc_addresses) };
      sendable.push(job);
    }
  }

  const defaultPolicy = sendable.some((j) => !j.email!.provider_id) ? await tenantPolicy(db, tenantId) : [];
  const policyOf = (j: EmailJob) => (j.email!.provider_id ? [j.email!.provider_id] : defaultPolicy);
  const providers = await policyProviders(db, env, tenantId, [...new Set(sendable.flatMap(policyOf))]);
  const { assigned, leases, unsendable } = await lease(env, sendable, policyOf, providers);
  const waiting = sendable.filter((j) => j.retryAfter !== undefined);
  await releaseEmails(db, tenantId, waiting);

  const outcomes: Outcome[] = [];
  // Unsendable emails were claimed but never handed to a provider: mark them so their outcome records.
  // A transactional claim is the email's own (one delivery holds it), so no owners are checked.
  const nonce = crypto.randomUUID();
  for (const [month, group] of groupBy(unsendable, (j) => j.email!.month))
    await markSending(db, { tenantId, month, ids: group.map((j) => j.email!.id), nonce });
  outcomes.push(...unsendable.map((j) => ({ id: j.email!.id, status: "failed" as const, error: "no enabled provider to send through" })));
  const release: EmailJob[] = [];
  const failures = new Map<string, boolean>();
  // From here a provider may get these emails: a claim marked `sending` is never given back blindly.
  const marked = new Set<string>();
  for (const [month, group] of groupBy(assigned, (a) => a.job.email!.month)) {
    for (const id of await markSending(db, { tenantId, month, ids: group.map((a) => a.job.email!.id), nonce })) marked.add(id);
  }
  handedOver.value = assigned.length > 0;
  for (const [providerId, all] of groupBy(assigned, (a) => a.provider.id)) {
    const group = all.filter((a) => marked.has(a.job.email!.id));
    if (group.length === 0) continue;
    const provider = group[0]!.provider;
    const emails = await Promise.all(group.map(({ job }) => render(env, tenantId, job.email!)));
    const result = await sendAll(provider, emails);
    outcomes.push(...result.outcomes);
    for (const [month, members] of groupBy(result.replays, (r) => group.find((a) => a.job.email!.id === r.ids[0])!.job.email!.month)) {
      await storeReplays(db, { tenantId, campaignId: null, providerId, month, replays: members });
    }
    const released = new Set(result.release);
    for (const { job } of group) {
      if (released.has(job.email!.id)) {
        job.retryAfter = result.failure?.retryAfterSeconds ?? backoff(job.attempts);
        release.push(job);
      }
    }
    failures.set(providerId, !!result.failure);
  }

  const emailOf = (id: string) => live.find((j) => j.email!.id === id)!.email!;
  for (const [month, group] of groupBy(outcomes, (o) => emailOf(o.id).month)) await recordOutcomes(db, tenantId, month, group);
  await releaseEmails(db, tenantId, release);
  for (const [month, group] of groupBy(skipped, (j) => j.email!.month))
    await skipSuppressed(
      db,
      month,
      group.map((j) => j.email!.id),
    );

  // An email waiting for its idempotent replay is still `sending` to its reader.
  const final = [
    ...outcomes.map((o) => ({
      id: o.id,
      status: o.status === "replaying" ? "sending" : o.status,
      event: o.status === "replaying" ? "sending" : o.status,
    })),
    ...skipped.map((j) => ({ id: j.email!.id, status: "suppressed", event: "suppressed" })),
  ];
  await setEmailStatuses(db, tenantId, final);

  // Every leased provider was sent through, so each has its entry in `failures`.
  await Promise.all(reportLeaseOutcomes(env, leases, (id) => failures.get(id) === true));

  const now = new Date().toISOString();
  const events: EventInput[] = outcomes
    .filter((o) => o.status !== "replaying")
    .map((o) => sendOutcomeEvent(o, now, recipientKey(emailOf(o.id).to_addresses[0]!)));
  if (events.length > 0)
    await publishEvents(env.EVENTS_QUEUE, tenantId, events).catch((err) => logger.warn("send events not queued", { err }));
  logger.debug("transactional batch", {
    emails: live.length,
    sent: outcomes.filter((o) => o.status === "sent").length,
    skipped: skipped.length,
    released: release.length,
    waiting: waiting.length,
  });
}

/**
 * Leases one token per recipient for each email, walking its provider policy in order with the
 * transactional lane. A policy with no enabled provider left (disabled or deleted since acceptance)
 * cannot send: those emails fail now rather than wait for ever.
 */
async function lease(env: Env, jobs: EmailJob[], policyOf: (j: EmailJob) => string[], providers: Map<string, LoadedProvider>) {
  const assigned: { job: EmailJob; provider: LoadedProvider }[] = [];
  const leases = new Map<string, BatchLease>();
  const unsendable: EmailJob[] = [];
  for (const [, group] of groupBy(jobs, (j) => policyOf(j).join(","))) {
    const policy = policyOf(group[0]!);
    if (!policy.some((id) => providers.get(id)?.enabled)) {
      unsendable.push(...group);
      continue;
    }
    const recipients = (j: EmailJob) => j.email!.to_addresses.length + j.email!.cc_addresses.length + j.email!.bcc_addresses.length;
    const leased = await leaseInPolicyOrder(env, policy, providers, group, recipients, "transactional");
    for (const { item, provider } of leased.assigned) assigned.push({ job: item, provider });
    for (const [id, l] of leased.leases) leases.set(id, l);
    for (const job of leased.waiting) job.retryAfter = leased.waitSeconds;
  }
  return { assigned, leases, unsendable };
}

async function render(env: Env, tenantId: string, e: ClaimedEmail): Promise<OutboundEmail> {
  const { html, headers } = await decorate(
    env,
    {
      tenantId,
      messageId: e.id,
      email: recipientKey(e.to_addresses[0]!),
      from: e.from_address,
      trackOpens: e.track_opens,
      trackClicks: e.track_clicks,
      listUnsubscribe: false,
    },
    e.html,
  );
  return {
    id: e.id,
    from: e.from_address,
    to: e.to_addresses,
    cc: e.cc_addresses.length > 0 ? e.cc_addresses : undefined,
    bcc: e.bcc_addresses.length > 0 ? e.bcc_addresses : undefined,
    replyTo: e.reply_to.length > 0 ? e.reply_to.join(", ") : undefined,
    subject: e.subject,
    html,
    text: e.text,
    headers: { ...e.headers, ...headers, "X-Herald-Message": e.id },
  };
}

/** Gives claims back (the queue message is retried): the message log says retrying, the email queued. */
async function releaseEmails(db: Db, tenantId: string, jobs: EmailJob[]) {
  if (jobs.length === 0) return;
  for (const [month, group] of groupBy(jobs, (j) => j.email!.month))
    await releaseClaims(
      db,
      tenantId,
      month,
      group.map((j) => j.email!.id),
    );
  await requeueEmails(
    db,
    tenantId,
    jobs.map((j) => j.email!.id),
  );
}
