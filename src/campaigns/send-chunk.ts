import { blockedTimeoutSeconds } from "../config";
import { chaosOf } from "../lib/chaos";
import { uuidv7 } from "../lib/ids";
import { progressStub } from "../services/durable-objects";
import { leaseInPolicyOrder } from "../sending/policy-lease";
import { policyProviders } from "../sending/policy-providers";
import { claimRecipients, markSending, releaseUnsent } from "../sending/store/message-rows";
import { chargeBudget, refundUnused, splitPartial, withinBudget } from "./chunk-budget";
import { deliver } from "./chunk-delivery";
import type { QueuedRecipient } from "./queue-messages";
import type { ChunkDeps, SendJob } from "./send-job";
import { sendingContext } from "./sending-context";
import { campaignState, failCampaign, noteBlocked, noteWaiting } from "./store/campaign-rows";

export type { ChunkDeps, SendJob } from "./send-job";

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
