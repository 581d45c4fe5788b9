import type { Lease } from "../durable-objects/provider-limiter";
import { claimRecipients, recordOutcomes, releaseClaims, type Outcome } from "../src/campaigns/claims";
import { SendMessage, type Recipient } from "../src/campaigns/messages";
import { limiterStub, progressStub } from "../src/campaigns/progress";
import { sendingContext, type SendingContext } from "../src/campaigns/sending-context";
import { uuidv7 } from "../src/lib/ids";
import { loadProviders, type LoadedProvider } from "../src/providers/registry";
import { PartialBatchError } from "../src/providers/errors";
import { ProviderError, type OutboundEmail, type SendResult } from "../src/providers/types";
import { backoffSeconds, RetryLater, type MessageHandler, type QueueContext } from "./handler";

const MAX_WAIT_SECONDS = 300;

/**
 * Sends one queue message of up to 100 recipients: lease the whole batch's tokens from the chosen
 * provider's limiter (one DO call), claim the recipients and read the campaign state (one Postgres
 * round trip), render, send through the provider's batch endpoint, record every result (one round
 * trip) and report the counts to the campaign's progress (one DO call).
 */
export const handleSend: MessageHandler = async (raw, qc) => {
  const msg = SendMessage.parse(raw);
  const { env, db, logger } = qc;
  const tenantId = msg.tenant_id;
  const ctx = await sendingContext(db(), tenantId, msg.campaign_id);
  if (!ctx) {
    logger.warn("campaign has no launch snapshot; dropping send message", { campaign_id: msg.campaign_id });
    return;
  }
  const providers = await loadProviders(db(), env, tenantId, ctx.providerIds);
  const { chosen, lease } = await leaseFromPolicy(env, ctx.providerIds, providers, msg.recipients.length);

  const ids = msg.recipients.map(() => uuidv7());
  let claim;
  try {
    claim = await claimRecipients(db(), { tenantId, campaignId: msg.campaign_id, month: msg.month, providerId: chosen.id, recipients: msg.recipients, ids });
  } catch (err) {
    await limiterStub(env, chosen.id).refund(lease.count);
    throw err;
  }
  const toSend = claim.claimed.filter((c) => c.status === "claimed");
  const skipped = claim.claimed.length - toSend.length;
  const unused = lease.count - toSend.length;
  if (unused > 0) qc.ctx.waitUntil(limiterStub(env, chosen.id).refund(unused).catch(() => {}));
  if (claim.state !== "sending") {
    // Paused or cancelled: send nothing. A resume fans out again whatever is still unclaimed.
    logger.info("campaign not sending; message dropped", { campaign_id: msg.campaign_id, state: claim.state });
    return;
  }
  // A new template version would need a new snapshot; launch pins one, so this only refreshes the cache.
  const live = claim.templateVersion === ctx.templateVersion ? ctx : ((await sendingContext(db(), tenantId, msg.campaign_id, claim.templateVersion)) ?? ctx);

  const byContact = new Map(msg.recipients.map((r) => [r.c, r]));
  const emails = toSend.map((c) => render(live, msg.campaign_id, c.id, byContact.get(c.contactId)!));
  const { outcomes, release: released, failure } = await sendAll(chosen, emails);

  await recordOutcomes(db(), msg.month, outcomes);
  if (released.length > 0) await releaseClaims(db(), msg.month, released);

  const sent = outcomes.filter((o) => o.status === "sent").length;
  const failed = outcomes.length - sent;
  if (sent + failed + skipped > 0) await progressStub(env, msg.campaign_id).report({ sent, failed, skipped });
  if (failure || lease.reportOutcome) await limiterStub(env, chosen.id).reportResult(!failure);

  if (failure?.transient) {
    logger.warn("provider failed transiently; batch will be retried", { provider_id: chosen.id, kind: failure.kind, remaining: released.length });
    throw new RetryLater(failure.retryAfterSeconds ?? backoffSeconds(qc.attempts), `provider ${failure.kind}`);
  }
};

/**
 * Walks the campaign's provider policy in order: a provider whose breaker is open or whose daily
 * quota is spent is passed over for the next; a plain rate limit means waiting as the DO says.
 */
async function leaseFromPolicy(env: Env, policy: string[], providers: Map<string, LoadedProvider>, count: number) {
  let wait = Infinity;
  for (const id of policy) {
    const p = providers.get(id);
    if (!p || !p.enabled) continue;
    const lease: Lease = await limiterStub(env, id).lease(count, { ratePerSecond: p.ratePerSecond, dailyQuota: p.dailyQuota });
    if (lease.granted) return { chosen: p, lease };
    if (lease.limitedBy === "rate") throw new RetryLater(lease.retryAfterSeconds, `rate limit of provider ${id}`);
    wait = Math.min(wait, lease.retryAfterSeconds);
  }
  if (wait === Infinity) throw new RetryLater(60, "no enabled provider in the campaign's policy");
  throw new RetryLater(Math.min(MAX_WAIT_SECONDS, wait), "every provider in the policy is unavailable");
}

function render(ctx: SendingContext, campaignId: string, messageId: string, r: Recipient): OutboundEmail {
  const out = ctx.template.render({ email: r.e, name: r.n, attributes: r.a, campaign: ctx.data });
  return {
    id: messageId,
    from: ctx.fromAddress,
    to: [r.e],
    replyTo: ctx.replyTo ?? undefined,
    subject: out.subject,
    html: out.html,
    text: out.text,
    headers: { "X-Herald-Campaign": campaignId, "X-Herald-Message": messageId },
  };
}

/**
 * Sends in the provider's batch sizes. Stops at the first whole-batch failure: a transient one
 * leaves the unsent rest to a retry (`release`); a permanent one (bad credentials, say) fails the
 * rest outright. Emails a provider settled before failing part-way keep their outcome, so a retry
 * never sends them again.
 */
async function sendAll(chosen: LoadedProvider, emails: OutboundEmail[]): Promise<{ outcomes: Outcome[]; release: string[]; failure?: ProviderError }> {
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

function toOutcome(id: string, r: SendResult): Outcome {
  return r.status === "accepted" ? { id, status: "sent", providerMessageId: r.providerMessageId } : { id, status: "failed", error: r.error ?? "rejected by the provider" };
}

export type { QueueContext };
