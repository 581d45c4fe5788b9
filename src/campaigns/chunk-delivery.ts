import { chaosOf } from "../lib/chaos";
import { runLimited } from "../lib/concurrency";
import { progressStub, type BatchLease } from "../services/durable-objects";
import { reportLeaseOutcomes } from "../sending/policy-lease";
import { sendAll } from "../sending/send-all";
import { recordOutcomes, releaseClaims, type Claimed, type Outcome } from "../sending/store/message-rows";
import { storeReplays } from "../sending/store/replay-rows";
import type { QueuedRecipient } from "./queue-messages";
import { renderRecipient } from "./render";
import type { ChunkDeps, SendJob } from "./send-job";
import type { SendingContext } from "./sending-context";

/** Provider calls in flight at once per chunk (a Worker invocation keeps six connections open). */
const SEND_CONCURRENCY = 6;

/** Renders and sends the claimed recipients, then records and reports the results. */
export async function deliver(
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
    if (!c) {
      c = { sent: 0, failed: 0 };
      calls.set(providerId, c);
    }
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
    let emails: Awaited<ReturnType<typeof renderRecipient>>[];
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
