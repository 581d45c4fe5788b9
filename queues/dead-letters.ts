import { FanoutMessage, SendMessage } from "../src/campaigns/queue-messages";
import { sendFanout } from "../src/campaigns/enqueue";
import { progressStub } from "../src/services/durable-objects";
import { failCampaign } from "../src/campaigns/store/campaign-rows";
import { failAbandonedRecipients, failPage, loadFanoutCampaign } from "../src/campaigns/store/fanout-rows";
import type { MessageHandler } from "./handler";

/**
 * A send message that exhausted its retries: its recipients that were never claimed (or were
 * released) are marked failed, so the campaign can still complete and retry-failed can pick them
 * up. A recipient still `claimed` never reached a provider: the sweeper gives it back and it is sent;
 * one `sending` may have been mailed: the sweeper settles it as `unknown`.
 */
export const handleDeadSend: MessageHandler = async (raw, { env, db, logger }) => {
  const msg = SendMessage.parse(raw);
  const failed = await failAbandonedRecipients(db(), {
    tenantId: msg.tenant_id,
    campaignId: msg.campaign_id,
    month: msg.month,
    recipients: msg.recipients,
  });
  logger.error("send message dead-lettered", { campaign_id: msg.campaign_id, recipients: msg.recipients.length, marked_failed: failed });
  if (failed > 0) await progressStub(env, msg.campaign_id).report({ sent: 0, failed, skipped: 0 });
};

/** Times a dead-lettered fan-out step is put back before what it could not do is given up on. */
export const MAX_REPLANS = 3;
/** The first re-plan waits this long, each further one twice as long: an outage gets minutes to pass. */
const REPLAN_DELAY_SECONDS = 60;

/**
 * A fan-out step that exhausted its retries. One bad step must not fail a whole campaign, so it is
 * put back (later, in case the cause was passing) up to MAX_REPLANS times. Then only what it could
 * not do fails: a range, just its page's members; a plan, the campaign (nothing can be sent without
 * one); resume and retry steps fail nothing (the cron repairs a campaign they leave stalled).
 * Throwing retries the dead letter itself.
 */
export const handleDeadFanout: MessageHandler = async (raw, { env, db, logger }) => {
  const msg = FanoutMessage.parse(raw);
  const replans = msg.replans ?? 0;
  const log = { campaign_id: msg.campaign_id, mode: msg.mode, seq: msg.seq, cursor: msg.cursor, replans };
  if (replans < MAX_REPLANS) {
    await sendFanout(env, { ...msg, replans: replans + 1 }, { delaySeconds: REPLAN_DELAY_SECONDS * 2 ** replans });
    logger.warn("fan-out step dead-lettered; put back", log);
    return;
  }
  const reason = `fan-out kept failing after ${replans} re-plans`;
  if (msg.mode === "launch") {
    const failed = await failCampaign(db(), msg.tenant_id, msg.campaign_id, `the audience could not be planned: ${reason}`);
    if (failed) await progressStub(env, msg.campaign_id).setState("failed");
    logger.error("fan-out plan abandoned; campaign failed", { ...log, failed });
    return;
  }
  if (msg.mode !== "range" || msg.seq === undefined || !msg.until) {
    logger.error("fan-out step abandoned", log);
    return;
  }
  const campaign = await loadFanoutCampaign(db(), msg.tenant_id, msg.campaign_id);
  if (!campaign || (campaign.state !== "sending" && campaign.state !== "paused")) {
    logger.error("fan-out page abandoned; campaign already ended", { ...log, state: campaign?.state });
    return;
  }
  const page = { seq: msg.seq, after: msg.cursor, until: msg.until, expected: msg.expected ?? 0, replans };
  const { failed, vanished } = await failPage(db(), { tenantId: msg.tenant_id, campaignId: msg.campaign_id, campaign }, page, reason);
  if (failed + vanished > 0) await progressStub(env, msg.campaign_id).report({ sent: 0, failed, skipped: 0, vanished });
  logger.error("fan-out page abandoned; its members failed", { ...log, failed, vanished });
};
