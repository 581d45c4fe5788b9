import type { BatchLease } from "../durable-objects/provider-limiter";
import { claimRecipients, recordOutcomes, releaseClaims, type Claimed, type ClaimResult, type Outcome } from "../src/campaigns/claims";
import { requeueSends } from "../src/campaigns/enqueue";
import { SendMessage, type Recipient } from "../src/campaigns/messages";
import { queueDelay } from "../src/lib/queues";
import { limiterStub, progressStub } from "../src/campaigns/progress";
import { policyProviders, sendingContext, type SendingContext } from "../src/campaigns/sending-context";
import { runLimited } from "../src/lib/concurrency";
import { uuidv7 } from "../src/lib/ids";
import { PartialBatchError } from "../src/providers/errors";
import { leaseInPolicyOrder, reportLeaseOutcomes } from "../src/providers/policy-lease";
import type { LoadedProvider } from "../src/providers/registry";
import { ProviderError, type OutboundEmail, type SendResult } from "../src/providers/types";
import { decorate } from "../src/tracking/links";
import { openDb, type Db } from "../src/services/db";
import type { Logger } from "../src/services/logger";
import { backoffSeconds, parseAndGroup } from "./handler";

/**
 * A batch is worked in chunks of this many messages, a few at a time, so one chunk's Postgres work
 * overlaps another's provider calls instead of each phase waiting for the whole batch.
 */
const CHUNK_MESSAGES = 50;
const CHUNKS_IN_FLIGHT = 2;
/** Provider calls in flight at once per batch (a Worker invocation keeps six connections open). */
const SEND_CONCURRENCY = 8;

interface Job {
  message: Message;
  body: SendMessage;
  provider?: LoadedProvider;
  /** A failure: retry the message after this many seconds (counts toward its retries). */
  retryAfter?: number;
  /** The limiter said wait: send the message again after this many seconds, as a new message. */
  defer?: number;
}

/**
 * Sends a queue batch of campaign messages (up to 100 recipients each), in chunks of messages of
 * one campaign. Per chunk: one ProviderLimiter call leases tokens for every message, one Postgres
 * statement reads the campaign state and claims every recipient, the messages go out through the provider's batch
 * endpoint a few at a time, one statement records every result and one CampaignProgress call
 * reports the counts. A message is acked when all its recipients are settled and retried (with
 * the limiter's or the provider's delay) when some were not.
 */
export async function processSendBatch(batch: MessageBatch, env: Env, ctx: ExecutionContext, logger: Logger): Promise<void> {
  const byCampaign: Map<string, Job[]> = parseAndGroup(batch, SendMessage, (b) => `${b.tenant_id}:${b.campaign_id}`, logger, "send message");
  if (byCampaign.size === 0) return;
  const handle = openDb(env);
  const chunks: Job[][] = [];
  for (const jobs of byCampaign.values()) {
    for (let i = 0; i < jobs.length; i += CHUNK_MESSAGES) chunks.push(jobs.slice(i, i + CHUNK_MESSAGES));
  }
  try {
    await runLimited(
      chunks.map((jobs) => async () => {
        const log = logger.child({ tenant_id: jobs[0]!.body.tenant_id, campaign_id: jobs[0]!.body.campaign_id });
        try {
          await sendCampaignJobs(jobs, env, handle.db, log);
        } catch (err) {
          log.warn("send chunk failed; its messages will be retried", { err });
          for (const job of jobs) job.retryAfter ??= backoffSeconds(job.message.attempts);
        }
        await settle(jobs, env, log);
      }),
      CHUNKS_IN_FLIGHT,
    );
  } finally {
    ctx.waitUntil(handle.close());
  }
}

/** Acks, retries or re-queues each message of a chunk according to what happened to it. */
async function settle(jobs: Job[], env: Env, logger: Logger) {
  const deferred = jobs.filter((j) => j.retryAfter === undefined && j.defer !== undefined);
  if (deferred.length > 0) {
    try {
      // Spread the wake-ups, so deferred messages don't all come back to fight for the same tokens.
      await requeueSends(env.SEND_QUEUE, deferred.map((j, i) => ({ body: j.body, delaySeconds: j.defer! + (i % 10) * 0.5 })));
    } catch (err) {
      logger.warn("could not re-queue deferred messages; retrying them instead", { err });
      for (const j of deferred) j.retryAfter = j.defer;
    }
  }
  for (const job of jobs) {
    if (job.retryAfter !== undefined) job.message.retry({ delaySeconds: queueDelay(job.retryAfter) });
    else job.message.ack();
  }
}

async function sendCampaignJobs(jobs: Job[], env: Env, db: Db, logger: Logger) {
  const { tenant_id: tenantId, campaign_id: campaignId, month } = jobs[0]!.body;
  const timer = phases();
  const context = await sendingContext(db, tenantId, campaignId);
  if (!context) {
    logger.warn("campaign has no launch snapshot; dropping its send messages");
    return;
  }
  const providers = await policyProviders(db, env, tenantId, context.providerIds);
  const { assigned, waiting, waitSeconds, leases } = await leaseInPolicyOrder(env, context.providerIds, providers, jobs, (j) => j.body.recipients.length, "campaign");
  for (const { item, provider } of assigned) item.provider = provider;
  for (const job of waiting) job.defer = waitSeconds;
  const granted = jobs.filter((j) => j.provider);
  if (granted.length === 0) return;

  // Claim every granted recipient (and read the campaign state) in one statement.
  const recipients: Recipient[] = [];
  const providerIds: string[] = [];
  const providerOf = new Map<string, string>();
  for (const job of granted) {
    for (const r of job.body.recipients) {
      recipients.push(r);
      providerIds.push(job.provider!.id);
      if (!providerOf.has(r.c)) providerOf.set(r.c, job.provider!.id);
    }
  }
  timer.mark("lease");
  const claim = await claimRecipients(db, { tenantId, campaignId, month, recipients, ids: recipients.map(() => uuidv7()), providerIds });
  timer.mark("claim");
  const progress = { sendingStarted: false };
  try {
    await deliverClaimed(granted, claim, { env, db, logger, leases, providerOf, timer, tenantId, campaignId, month, context, progress });
  } catch (err) {
    // Before any provider call, giving the claims back is safe and lets the retry send them. Once
    // sending began, a claim may stand for delivered mail: it stays, and the sweeper settles it.
    if (!progress.sendingStarted) {
      await releaseClaims(db, month, claim.claimed.filter((c) => c.status === "claimed").map((c) => c.id)).catch(() => {});
    }
    throw err;
  }
}

interface DeliverContext {
  env: Env;
  db: Db;
  logger: Logger;
  leases: Map<string, BatchLease>;
  providerOf: Map<string, string>;
  timer: ReturnType<typeof phases>;
  tenantId: string;
  campaignId: string;
  month: string;
  context: SendingContext;
  progress: { sendingStarted: boolean };
}

/** Renders and sends the chunk's claimed recipients, then records and reports the results. */
async function deliverClaimed(granted: Job[], claim: ClaimResult, d: DeliverContext) {
  const { env, db, logger, leases, providerOf, timer, tenantId, campaignId, month, context, progress } = d;
  const claimedByContact = new Map<string, Claimed>(claim.claimed.map((c) => [c.contactId, c]));
  const used = new Map<string, number>();
  for (const c of claim.claimed) {
    const provider = providerOf.get(c.contactId)!;
    if (c.status === "claimed") used.set(provider, (used.get(provider) ?? 0) + 1);
  }
  const refunds: Promise<unknown>[] = [];
  refundUnused(env, leases, used, refunds);
  await Promise.all(refunds);
  if (claim.state !== "sending") {
    // Paused or cancelled: send nothing. A resume fans out again whatever is still unclaimed.
    logger.info("campaign not sending; messages dropped", { state: claim.state });
    return;
  }
  const live = (claim.templateVersion === context.templateVersion ? context : await sendingContext(db, tenantId, campaignId, claim.templateVersion)) ?? context;

  const outcomes: Outcome[] = [];
  const release: string[] = [];
  const failures = new Map<string, ProviderError>();
  // A contact in two messages of the batch was claimed once; the first message to reach it sends.
  const taken = new Set<string>();
  const queue = granted.map((job) => async () => {
    const mine: { r: Recipient; messageId: string }[] = [];
    for (const r of job.body.recipients) {
      const c = claimedByContact.get(r.c);
      if (c?.status !== "claimed" || taken.has(r.c)) continue;
      taken.add(r.c);
      mine.push({ r, messageId: c.id });
    }
    const emails = await Promise.all(mine.map(({ r, messageId }) => render(env, live, { tenantId, campaignId, messageId }, r)));
    const result = await sendAll(job.provider!, emails);
    outcomes.push(...result.outcomes);
    release.push(...result.release);
    if (result.failure) {
      failures.set(job.provider!.id, result.failure);
      if (result.release.length > 0) job.retryAfter = result.failure.retryAfterSeconds ?? backoffSeconds(job.message.attempts);
    }
  });
  progress.sendingStarted = true;
  await runLimited(queue, SEND_CONCURRENCY);
  timer.mark("send");

  const recorded = await recordOutcomes(db, month, outcomes);
  if (release.length > 0) await releaseClaims(db, month, release);
  timer.mark("record");
  const { sent, failed } = recorded;
  const skipped = claim.claimed.filter((c) => c.status === "skipped").length;
  const reports: Promise<unknown>[] = [];
  if (sent + failed + skipped > 0) reports.push(progressStub(env, campaignId).report({ sent, failed, skipped }));
  reports.push(...reportLeaseOutcomes(env, leases, (id) => failures.has(id)));
  await Promise.all(reports);
  timer.mark("report");
  logger.debug("send chunk", { messages: granted.length, sent, failed, skipped, ...timer.done() });
  if (release.length > 0) logger.warn("provider failed transiently; unsent recipients will be retried", { released: release.length });
}

/** Tokens leased for recipients that turned out to be claimed already (a duplicate delivery). */
function refundUnused(env: Env, leases: Map<string, BatchLease>, used: Map<string, number>, pending: Promise<unknown>[]) {
  for (const [providerId, lease] of leases) {
    const unused = lease.grantedTokens - (used.get(providerId) ?? 0);
    if (unused > 0) pending.push(limiterStub(env, providerId).refund(unused).catch(() => {}));
  }
}

async function render(env: Env, ctx: SendingContext, ids: { tenantId: string; campaignId: string; messageId: string }, r: Recipient): Promise<OutboundEmail> {
  const out = ctx.template.render({ email: r.e, name: r.n, attributes: r.a, campaign: ctx.data });
  const { html, headers } = await decorate(env, {
    ...ids,
    contactId: r.c,
    email: r.e,
    from: ctx.fromAddress,
    trackOpens: ctx.trackOpens,
    trackClicks: ctx.trackClicks,
    listUnsubscribe: true,
  }, out.html);
  return {
    id: ids.messageId,
    from: ctx.fromAddress,
    to: [r.e],
    replyTo: ctx.replyTo ?? undefined,
    subject: out.subject,
    html,
    text: out.text,
    headers: { ...headers, "X-Herald-Campaign": ids.campaignId, "X-Herald-Message": ids.messageId },
  };
}

/** Wall-clock time per phase of a chunk, for debug logs. */
function phases() {
  let last = Date.now();
  const out: Record<string, number> = {};
  return {
    mark(name: string) {
      const now = Date.now();
      out[`${name}_ms`] = now - last;
      last = now;
    },
    done: () => out,
  };
}


/**
 * Sends in the provider's batch sizes. Stops at the first whole-batch failure: a transient one
 * leaves the unsent rest to a retry (`release`); a permanent one (bad credentials, say) fails the
 * rest outright. Emails a provider settled before failing part-way keep their outcome, so a retry
 * never sends them again.
 */
export async function sendAll(chosen: LoadedProvider, emails: OutboundEmail[]): Promise<{ outcomes: Outcome[]; release: string[]; failure?: ProviderError }> {
  const outcomes: Outcome[] = [];
  const size = Math.max(1, chosen.provider.maxBatchSize);
  for (let i = 0; i < emails.length; i += size) {
    const chunk = emails.slice(i, i + size);
    let results: (SendResult | undefined)[];
    let failure: ProviderError | undefined;
    try {
      results = await chosen.provider.send(chunk);
    } catch (err) {
      failure = err instanceof ProviderError ? err : new ProviderError("unavailable", "provider call failed unexpectedly");
      results = err instanceof PartialBatchError ? err.settled : [];
    }
    const byId = new Map(results.filter((r): r is SendResult => r !== undefined).map((r) => [r.id, r]));
    const release: string[] = [];
    for (const e of chunk) {
      const r = byId.get(e.id);
      if (r) outcomes.push(toOutcome(e.id, r));
      else if (!failure) outcomes.push({ id: e.id, status: "failed", error: "provider returned no result for this message" });
      else if (failure.transient) release.push(e.id);
      else outcomes.push({ id: e.id, status: "failed", error: `provider ${failure.kind}: ${failure.message}` });
    }
    if (failure) {
      const rest = emails.slice(i + size);
      if (failure.transient) release.push(...rest.map((e) => e.id));
      else for (const e of rest) outcomes.push({ id: e.id, status: "failed", error: `provider ${failure.kind}: ${failure.message}` });
      return { outcomes, release, failure };
    }
  }
  return { outcomes, release: [] };
}

export function toOutcome(id: string, r: SendResult): Outcome {
  return r.status === "accepted" ? { id, status: "sent", providerMessageId: r.providerMessageId } : { id, status: "failed", error: r.error ?? "rejected by the provider" };
}
