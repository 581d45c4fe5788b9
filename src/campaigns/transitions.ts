import { sql } from "drizzle-orm";
import { HeraldError } from "../errors";
import type { Db } from "../services/db";
import { sendFanout } from "./enqueue";
import { whyNot } from "./launch";
import { allowedFrom, type CampaignAction, type CampaignState } from "./machine";
import type { FanoutMessage } from "./queue-messages";
import { revertState, transitionRow } from "./store/campaign-rows";
import { markForRetry, unmarkRetry } from "../sending/store/message-rows";
import { progressStub } from "../services/durable-objects";

/** Moves a campaign from an allowed state to `to` in one conditional statement, or explains why not. */
async function transition(db: Db, tenantId: string, campaignId: string, action: CampaignAction, to: CampaignState, extra = sql``) {
  const row = await transitionRow(db, tenantId, campaignId, action, to, extra);
  if (!row) throw await whyNot(db, tenantId, campaignId, allowedFrom(action));
  return row;
}

export async function scheduleCampaign(db: Db, tenantId: string, campaignId: string, at: Date) {
  await transition(
    db,
    tenantId,
    campaignId,
    "schedule",
    "scheduled",
    sql`, scheduled_at = ${at.toISOString()}::timestamptz, launch_attempts = 0, failure_reason = NULL`,
  );
}

export async function pauseCampaign(db: Db, env: Env, tenantId: string, campaignId: string) {
  await transition(db, tenantId, campaignId, "pause", "paused");
  await progressStub(env, campaignId).setState("paused");
}

/**
 * Sending picks up where it stopped: CampaignProgress admits the campaign's pages again (fan-out
 * skips whoever is already handled); a campaign planned without pages is walked page by page.
 */
export async function resumeCampaign(db: Db, env: Env, tenantId: string, campaignId: string) {
  await transition(db, tenantId, campaignId, "resume", "sending", sql`, blocked_since = NULL`);
  try {
    await queueFanout(env, tenantId, campaignId, "resume");
    await progressStub(env, campaignId).setState("sending");
  } catch (err) {
    // Nothing will send, so the campaign stays paused and the caller can try again.
    await revertState(db, tenantId, campaignId, "sending", "paused");
    throw err;
  }
}

/** Cancel always wins: senders read the state before every claim, and waiting messages drop themselves. */
export async function cancelCampaign(db: Db, env: Env, tenantId: string, campaignId: string) {
  const row = await transition(db, tenantId, campaignId, "cancel", "cancelled", sql`, completed_at = now()`);
  if (row.started) await progressStub(env, campaignId).setState("cancelled");
}

/**
 * Puts failed recipients back in the queue. Recipients whose outcome is unknown stay as they are
 * (they may have been delivered, and a duplicate is worse than a miss) unless the user explicitly
 * accepts that they may get the mail twice (`includeUnknown`).
 */
export async function retryFailed(db: Db, env: Env, tenantId: string, campaignId: string, includeUnknown = false): Promise<number> {
  const from = allowedFrom("retry_failed");
  const marked = await markForRetry(db, tenantId, campaignId, includeUnknown, from);
  const n = marked.failed + marked.unknown;
  if (n === 0) {
    const why = await whyNot(db, tenantId, campaignId, from);
    // Unknown campaign or wrong state explain themselves; otherwise there is simply nothing to do.
    if (why.code === "not_found" || why.options.extensions?.state) throw why;
    throw new HeraldError(
      "conflict",
      includeUnknown
        ? "there are no failed or unknown recipients to retry"
        : "there are no failed recipients to retry (recipients whose outcome is unknown need include_unknown=true)",
    );
  }
  const { previous } = await transition(
    db,
    tenantId,
    campaignId,
    "retry_failed",
    "sending",
    sql`, completed_at = NULL, failure_reason = NULL`,
  );
  try {
    await progressStub(env, campaignId).retrying(marked);
    await queueFanout(env, tenantId, campaignId, "retry");
  } catch (err) {
    // Nothing will send them: put the recipients and the campaign back as they were.
    await unmarkRetry(db, tenantId, campaignId);
    await revertState(db, tenantId, campaignId, "sending", previous, sql`, completed_at = now()`);
    await progressStub(env, campaignId)
      .setState(previous)
      .catch(() => {});
    throw err;
  }
  return n;
}

export function queueFanout(env: Env, tenantId: string, campaignId: string, mode: FanoutMessage["mode"]) {
  return sendFanout(env, { type: "campaign_fanout", tenant_id: tenantId, campaign_id: campaignId, mode, cursor: null, seen: 0 });
}
