import type { Invocation } from "../lib/chaos";
import { chaosOf } from "../lib/chaos";
import { uuidv7 } from "../lib/ids";
import { runLimited } from "../lib/concurrency";
import type { LoadedProvider } from "../providers/registry";
import type { Db } from "../services/db";
import type { Logger } from "../services/logger";
import { leaseInPolicyOrder, reportLeaseOutcomes } from "../sending/policy-lease";
import { providerCalls, sendAll } from "../sending/send-all";
import { blockedTimeoutSeconds } from "../config";
import type { QueuedRecipient, SendMessage } from "./queue-messages";
import { renderRecipient } from "./render";
import { policyProviders } from "../sending/policy-providers";
import { sendingContext, type SendingContext } from "./sending-context";
import { campaignState, failCampaign, noteBlocked, noteWaiting } from "./store/campaign-rows";
import {
  claimRecipients,
  markSending,
  recordOutcomes,
  releaseClaims,
  releaseUnsent,
  type Claimed,
  type Outcome,
} from "../sending/store/message-rows";
import { storeReplays } from "../sending/store/replay-rows";
import { limiterStub, progressStub, type BatchLease } from "../services/durable-objects";

/** Provider calls in flight at once per chunk (a Worker invocation keeps six connections open). */
const SEND_CONCURRENCY = 6;

/** One queue message of the chunk and what became of it; the consumer acks, retries or re-queues from this. */
export interface SendJob {
  messageId: string;
  attempts: number;
  body: SendMessage;
  provider?: LoadedProvider;
  /** A failure: retry the message after this many seconds (counts toward its retries). */
  retryAfter?: number;
  /** Send these recipients again after `seconds`, as a new message (waiting is not a failure). */
  requeue?: { body: SendMessage; seconds: number }[];
  /** Nothing more to do for this message: acknowledge it. */
  drop?: boolean;
}

export interface ChunkDeps {
  env: Env;
  db: Db;
  logger: Logger;
  /** Outgoing requests this invocation may still make to providers (Workers cap subrequests per invocation). */
  budget: { calls: number };
  crash: Invocation;
  backoff: (attempts: number) => number;
}

/**
 * Sends one chunk of a campaign's queue messages: lease tokens (one limiter call per provider),
 * claim every recipient and read the campaign's state (one statement), mark the claims as handed
 * to the provider (one statement), send, record every outcome (one statement) and report the counts
 * to CampaignProgress. Claims that never reached a provider are given back on any failure; once a
 * provider may have them they are never sent again automatically.
 */
export async function sendCampaignChunk(jobs: SendJob[], d: ChunkDeps): Promise<void> {
  const { env, db, logger } = d;
  const { tenant_id: tenantId, campaign_id: campaignId, month } = jobs[0]!.body;
  const context = await sendingContext(db, tenantId, campaignId);
  if (!context) {
    logger.warn("campaign has no launch snapshot; dropping its send messages");
    for (const job of jobs) job.drop = true;
    return;
  }
  const providers = await policyProviders(db, env, tenantId, context.providerIds);
  const within = withinBudget(jobs, context.providerIds, providers, d.budget);
  const lease = await leaseInPolicyOrder(env, context.providerIds, providers, within, (j) => j.body.recipients.length, "campaign");
  for (const { item, provider } of lease.assigned) item.provider = provider;
  chargeBudget(within, d.budget);
  if (lease.partial) {
    splitPartial(lease.partial.item, lease.partial.provider, lease.partial.tokens, lease.waitSeconds);
    await noteWaiting(db, tenantId, campaignId, lease.waitSeconds);
  }
  const waiting = lease.waiting.filter((j) => j !== lease.partial?.item);
  if (waiting.length > 0) await waitOrGiveUp(waiting, lease.waitSeconds, lease.blocked, d, tenantId, campaignId);
  const granted = within.filter((j) => j.provider);
  if (granted.length === 0) return;

  const recipients: QueuedRecipient[] = [];
  const providerIds: string[] = [];
  const providerOf = new Map<string, string>();
  for (const job of granted) {
    for (const r of job.body.recipients) {
      recipients.push(r);
      providerIds.push(job.provider!.id);
      if (!providerOf.has(r.c)) providerOf.set(r.c, job.provider!.id);
    }
  }
  const tokens = granted.flatMap((job) => job.body.recipients.map(() => job.messageId));
  const owners = granted.map((job) => job.messageId);
  const claim = await claimRecipients(db, {
    tenantId,
    campaignId,
    month,
    tokens,
    recipients,
    ids: recipients.map(() => uuidv7()),
    providerIds,
  });
  const mine = claim.claimed.filter((c) => c.status === "claimed");
  await refundUnused(env, lease.leases, mine, providerOf);
  if (claim.state !== "sending") {
    // Paused or cancelled: the statement claimed nothing. A resume fans out again.
    logger.info("campaign not sending; messages dropped", { state: claim.state });
    return;
  }
  let handedOver = false;
  // This attempt's stamp on the rows it hands to a provider (see markSending).
  const nonce = crypto.randomUUID();
  const ids = mine.map((c) => c.id);
  try {
    d.crash.at("after_claim");
    const live =
      (claim.templateVersion === context.templateVersion
        ? context
        : await sendingContext(db, tenantId, campaignId, claim.templateVersion)) ?? context;
    const sending = await markSending(db, { tenantId, month, ids, owners, nonce });
    handedOver = true;
    await deliver(granted, claim.claimed, sending, live, lease.leases, d);
  } catch (err) {
    if (!handedOver) {
      // No provider call was made: the claims go back and the retry sends them.
      await releaseUnsent(db, { tenantId, month, ids, owners, nonce }).catch(() => {});
    } else {
      // A provider may have this mail: the claims stay `sending` and the sweeper settles them as
      // `unknown`. The chaos benchmark counts them as ambiguous.
      chaosOf(env)?.ambiguous(mine.length);
    }
    throw err;
  }
}

/** Renders and sends the claimed recipients, then records and reports the results. */
async function deliver(
  granted: SendJob[],
  claimed: Claimed[],
  sending: Set<string>,
  ctx: SendingContext,
  leases: Map<string, BatchLease>,
  d: ChunkDeps,
) {
  const { env, db, logger } = d;
  const { tenant_id: tenantId, campaign_id: campaignId, month } = granted[0]!.body;
  const byContact = new Map(claimed.map((c) => [c.contactId, c]));
  const outcomes: Outcome[] = [];
  const release: string[] = [];
  // Per provider: the chunk's messages sent through it, and those whose call failed as a whole.
  const calls = new Map<string, { sent: number; failed: number }>();
  const replays: { providerId: string; replays: Awaited<ReturnType<typeof sendAll>>["replays"] }[] = [];
  const tally = (providerId: string) => {
    let c = calls.get(providerId);
    if (!c) calls.set(providerId, (c = { sent: 0, failed: 0 }));
    return c;
  };
  // A contact in two messages of the chunk was claimed once; the first message to reach it sends.
  const taken = new Set<string>();
  const tasks = granted.map((job) => async () => {
    const mine: { r: QueuedRecipient; messageId: string }[] = [];
    for (const r of job.body.recipients) {
      const c = byContact.get(r.c);
      if (c?.status !== "claimed" || !sending.has(c.id) || taken.has(r.c)) continue;
      taken.add(r.c);
      mine.push({ r, messageId: c.id });
    }
    if (mine.length === 0) return;
    let emails;
    try {
      emails = await Promise.all(mine.map(({ r, messageId }) => renderRecipient(env, ctx, { tenantId, campaignId, messageId }, r)));
    } catch (err) {
      // Nothing of this message reached a provider: its claims go back and it is retried alone.
      logger.warn("could not render a message; it will be retried", { err });
      release.push(...mine.map((m) => m.messageId));
      job.retryAfter = d.backoff(job.attempts);
      return;
    }
    const result = await sendAll(job.provider!, emails);
    tally(job.provider!.id).sent++;
    outcomes.push(...result.outcomes);
    release.push(...result.release);
    if (result.replays.length > 0) replays.push({ providerId: job.provider!.id, replays: result.replays });
    if (result.failure) {
      tally(job.provider!.id).failed++;
      if (result.release.length > 0) job.retryAfter = result.failure.retryAfterSeconds ?? d.backoff(job.attempts);
    }
  });
  await runLimited(tasks, SEND_CONCURRENCY);
  d.crash.at("after_send");

  for (const r of replays) await storeReplays(db, { tenantId, campaignId, providerId: r.providerId, month, replays: r.replays });
  const recording = recordOutcomes(db, tenantId, month, outcomes);
  // A crash injected here leaves the statement running: it may or may not commit, as in real life.
  recording.catch(() => {});
  d.crash.at("while_recording");
  const recorded = await recording;
  if (release.length > 0) await releaseClaims(db, tenantId, month, release);
  const skipped = claimed.filter((c) => c.status === "skipped").length;
  const settled = recorded.sent + recorded.failed + recorded.unknown + skipped;
  const reports: Promise<unknown>[] = [];
  if (settled > 0)
    reports.push(
      progressStub(env, campaignId).report({ sent: recorded.sent, failed: recorded.failed, skipped, unknown: recorded.unknown }),
    );
  // The breaker is for a provider that is down, not one that fails now and then: a chunk counts
  // against it when most of its calls to that provider failed.
  reports.push(
    ...reportLeaseOutcomes(env, leases, (id) => {
      const c = calls.get(id);
      return c !== undefined && c.failed * 2 >= c.sent && c.failed > 0;
    }),
  );
  await Promise.all(reports);
  const chaos = chaosOf(env);
  if (chaos?.restartDue(settled))
    await progressStub(env, campaignId)
      .crash()
      .catch(() => {});
  logger.debug("send chunk", { messages: granted.length, ...recorded, skipped, released: release.length });
  if (release.length > 0)
    logger.warn("provider refused a batch without accepting it; those recipients will be retried", { released: release.length });
  if (recorded.unknown + recorded.replaying > 0)
    logger.warn("provider answer was ambiguous; recipients marked unknown (or queued for an idempotent replay), never re-sent blindly", {
      unknown: recorded.unknown,
      replaying: recorded.replaying,
    });
}

/**
 * Takes the jobs whose provider calls, as the policy's first usable provider would make them, fit
 * in what is left of the invocation's budget; the rest go back to the queue at once, as new
 * messages, for another invocation. Per-email providers (SES, Mailgun) make one request
 * per recipient, so far fewer of their messages fit.
 */
function withinBudget(jobs: SendJob[], policy: string[], providers: Map<string, LoadedProvider>, budget: { calls: number }): SendJob[] {
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
function chargeBudget(jobs: SendJob[], budget: { calls: number }) {
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
function splitPartial(job: SendJob, provider: LoadedProvider, tokens: number, waitSeconds: number) {
  const now = job.body.recipients.slice(0, tokens);
  const later = job.body.recipients.slice(tokens);
  job.body = { ...job.body, recipients: now };
  job.provider = provider;
  if (later.length > 0) job.requeue = [{ body: { ...job.body, recipients: later }, seconds: waitSeconds }];
}

/**
 * Messages no provider could take now wait as new messages; but a cancelled (or paused) campaign's
 * messages are dropped at once, and a campaign that has had no usable provider for longer than the
 * configured bound fails with the reason instead of waiting for ever.
 */
async function waitOrGiveUp(waiting: SendJob[], seconds: number, blocked: boolean, d: ChunkDeps, tenantId: string, campaignId: string) {
  const state = await campaignState(d.db, tenantId, campaignId);
  if (state !== "sending") {
    for (const job of waiting) job.drop = true;
    return;
  }
  if (blocked) {
    const since = await noteBlocked(d.db, tenantId, campaignId);
    const limit = blockedTimeoutSeconds(d.env);
    if (since !== undefined && since >= limit) {
      const reason = `no enabled provider could send for ${Math.round(since / 60)} minutes (BLOCKED_CAMPAIGN_TIMEOUT_SECONDS is ${limit})`;
      if (await failCampaign(d.db, tenantId, campaignId, reason)) {
        d.logger.error("campaign failed: no usable provider", { campaign_id: campaignId, reason });
        await progressStub(d.env, campaignId)
          .setState("failed")
          .catch(() => {});
      }
      for (const job of waiting) job.drop = true;
      return;
    }
  }
  for (const job of waiting) job.requeue = [...(job.requeue ?? []), { body: job.body, seconds }];
  await noteWaiting(d.db, tenantId, campaignId, seconds);
}

/** Tokens leased for recipients that turned out to be claimed already (a duplicate delivery). */
async function refundUnused(env: Env, leases: Map<string, BatchLease>, mine: Claimed[], providerOf: Map<string, string>) {
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
