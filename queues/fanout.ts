import { enqueueRecipients, sendFanout } from "../src/campaigns/enqueue";
import { FanoutMessage, type QueuedRecipient } from "../src/campaigns/queue-messages";
import { progressStub } from "../src/services/durable-objects";
import {
  FANOUT_PAGE_SIZE,
  type AudienceRow,
  type FanoutCampaign,
  type RetryingRow,
  loadFanoutCampaign,
  markPageExpanded,
  openRangeMembers,
  planPages,
  recordSkipped,
  retryingPage,
  skipDeletedRetrying,
  unhandledAudiencePage,
} from "../src/campaigns/store/fanout-rows";
import type { MessageHandler, QueueContext } from "./handler";

type Step = (msg: FanoutMessage, campaign: FanoutCampaign, qc: QueueContext) => Promise<void>;

/**
 * Expands a campaign's audience. launch plans it into pages (campaign_pages) and hands them to
 * CampaignProgress, which queues them as range steps while the campaign's in-flight count allows.
 * A range step records its undeliverable members as skipped and queues the rest in send messages of
 * up to 100. Every step may run more than once: claims in the message log stop a recipient from
 * being mailed twice, and a page reports what it counts only the first time it is expanded.
 */
export const handleFanout: MessageHandler = async (raw, qc) => {
  const msg = FanoutMessage.parse(raw);
  const campaign = await loadFanoutCampaign(qc.db(), msg.tenant_id, msg.campaign_id);
  if (campaign?.state !== "sending") {
    qc.logger.info("fan-out stopped: campaign is not sending", { campaign_id: msg.campaign_id, state: campaign?.state });
    return;
  }
  const step: Record<FanoutMessage["mode"], Step> = { launch: plan, range: expandRange, resume: resumeStep, retry: retryStep };
  await step[msg.mode](msg, campaign, qc);
};

async function plan(msg: FanoutMessage, _campaign: FanoutCampaign, { env, db, logger }: QueueContext) {
  const planned = await planPages(db(), msg.tenant_id, msg.campaign_id);
  if (!planned) return;
  // From here CampaignProgress admits the pages; a redelivered plan hands it the same pages again.
  await progressStub(env, msg.campaign_id).plan({
    tenantId: msg.tenant_id,
    campaignId: msg.campaign_id,
    total: planned.total,
    pages: planned.pages,
  });
  logger.info("fan-out planned", { campaign_id: msg.campaign_id, total: planned.total, pages: planned.pages.length });
}

async function expandRange(msg: FanoutMessage, campaign: FanoutCampaign, { env, db, logger }: QueueContext) {
  if (!msg.until) throw new RangeError("a range step needs `until`");
  const scope = { tenantId: msg.tenant_id, campaignId: msg.campaign_id, campaign };
  const t0 = Date.now();
  const { members, rows } = await openRangeMembers(db(), scope, { after: msg.cursor, until: msg.until });
  const tQuery = Date.now() - t0;
  // Members deleted since the plan counted them: never sent, never in the log.
  const vanished = Math.max(0, (msg.expected ?? members) - members);
  // Before any send is queued, so a redelivery after a failed enqueue finds the page expanded.
  const recorded = await markPageExpanded(
    db(),
    scope,
    { seq: msg.seq, vanished },
    rows.filter((r) => !r.deliverable),
  );
  if (msg.seq === undefined)
    logger.warn("range step without a page; its vanished members are not counted", { campaign_id: msg.campaign_id });
  const t1 = Date.now();
  const queued = await queueSends(
    env,
    msg,
    campaign,
    rows.filter((r) => r.deliverable),
  );
  if (recorded.newlySkipped + recorded.vanished > 0) {
    await progressStub(env, msg.campaign_id).report({ sent: 0, failed: 0, skipped: recorded.newlySkipped, vanished: recorded.vanished });
  }
  logger.info("fan-out page", {
    campaign_id: msg.campaign_id,
    seq: msg.seq,
    members,
    queued,
    skipped: recorded.newlySkipped,
    vanished: recorded.vanished,
    query_ms: tQuery,
    enqueue_ms: Date.now() - t1,
  });
}

/**
 * resume of a campaign with pages is CampaignProgress's: it queues every page again. A campaign
 * planned before pages existed pages through whoever is not yet handled, one step after another.
 */
async function resumeStep(msg: FanoutMessage, campaign: FanoutCampaign, { env, db, logger }: QueueContext) {
  if (campaign.paged) {
    logger.info("resume left to CampaignProgress: the campaign has pages", { campaign_id: msg.campaign_id });
    return;
  }
  const scope = { tenantId: msg.tenant_id, campaignId: msg.campaign_id, campaign };
  const rows = await unhandledAudiencePage(db(), scope, msg.cursor);
  const skipped = await recordSkipped(
    db(),
    scope,
    rows.filter((r) => !r.deliverable),
  );
  await queueSends(
    env,
    msg,
    campaign,
    rows.filter((r) => r.deliverable),
  );
  if (rows.length === FANOUT_PAGE_SIZE) await sendFanout(env, { ...msg, cursor: rows[rows.length - 1]!.id, seen: msg.seen + rows.length });
  if (skipped > 0) await progressStub(env, msg.campaign_id).report({ sent: 0, failed: 0, skipped });
  logger.info("fan-out resume page", { campaign_id: msg.campaign_id, page: rows.length, skipped });
}

/** retry-failed: queues a page of the recipients the API marked `retrying`; the send consumer's claim takes those rows over. */
async function retryStep(msg: FanoutMessage, campaign: FanoutCampaign, { env, db }: QueueContext) {
  const scope = { tenantId: msg.tenant_id, campaignId: msg.campaign_id, campaign };
  const page = await retryingPage(db(), scope, msg.cursor);
  if (page.length === 0) return;
  const gone = page.filter((r) => r.id === null).map((r) => r.contact_id);
  if (gone.length > 0) {
    const settled = await skipDeletedRetrying(db(), scope, gone);
    if (settled > 0) await progressStub(env, msg.campaign_id).report({ sent: 0, failed: 0, skipped: settled });
  }
  await queueSends(
    env,
    msg,
    campaign,
    page.filter((r): r is RetryingRow & { id: string } => r.id !== null),
  );
  if (page.length === FANOUT_PAGE_SIZE) {
    await sendFanout(env, { ...msg, cursor: page[page.length - 1]!.contact_id, seen: msg.seen + page.length });
  }
}

async function queueSends(env: Env, msg: FanoutMessage, campaign: FanoutCampaign, rows: AudienceRow[]): Promise<number> {
  if (rows.length === 0) return 0;
  const recipients: QueuedRecipient[] = rows.map((r) => ({ c: r.id, e: r.email, n: r.name, a: r.attributes ?? {} }));
  await enqueueRecipients(
    env.SEND_QUEUE,
    { type: "campaign_send", tenant_id: msg.tenant_id, campaign_id: msg.campaign_id, month: campaign.message_month },
    recipients,
  );
  return recipients.length;
}
