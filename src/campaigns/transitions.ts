import { sql } from "drizzle-orm";
import type { CampaignState } from "../db/schema";
import { HeraldError } from "../errors";
import type { Db } from "../services/db";
import { whyNot } from "./launch";
import { sendFanout } from "./enqueue";
import type { FanoutMessage } from "./messages";
import { progressStub } from "./progress";
import { ALLOWED_FROM, type CampaignAction } from "./state";

/** Moves a campaign from an allowed state to `to` in one conditional statement, or explains why not. */
async function transition(db: Db, tenantId: string, campaignId: string, action: CampaignAction, to: CampaignState, extra = sql``) {
  const from = ALLOWED_FROM[action];
  const result = await db.execute<{ previous: CampaignState; started: boolean }>(sql`
    UPDATE campaigns c SET state = ${to}, updated_at = now() ${extra}
    FROM (SELECT id, state AS previous FROM campaigns WHERE tenant_id = ${tenantId} AND id = ${campaignId} FOR UPDATE) old
    WHERE c.tenant_id = ${tenantId} AND c.id = old.id AND old.previous IN ${sql.raw(`('${from.join("','")}')`)}
    RETURNING old.previous, (c.started_at IS NOT NULL) AS started`);
  const row = result.rows[0];
  if (!row) throw await whyNot(db, tenantId, campaignId, from);
  return row;
}

export async function scheduleCampaign(db: Db, tenantId: string, campaignId: string, at: Date) {
  await transition(db, tenantId, campaignId, "schedule", "scheduled", sql`, scheduled_at = ${at.toISOString()}::timestamptz`);
}

export async function pauseCampaign(db: Db, env: Env, tenantId: string, campaignId: string) {
  await transition(db, tenantId, campaignId, "pause", "paused");
  await progressStub(env, campaignId).setState("paused");
}

/** Sending picks up where it stopped: fan-out runs again over whoever is not yet handled. */
export async function resumeCampaign(db: Db, env: Env, tenantId: string, campaignId: string) {
  await transition(db, tenantId, campaignId, "resume", "sending");
  try {
    await queueFanout(env, tenantId, campaignId, "resume");
    await progressStub(env, campaignId).setState("sending");
  } catch (err) {
    // Nothing will send, so the campaign stays paused and the caller can try again.
    await db.execute(sql`UPDATE campaigns SET state = 'paused' WHERE tenant_id = ${tenantId} AND id = ${campaignId} AND state = 'sending'`);
    throw err;
  }
}

export async function cancelCampaign(db: Db, env: Env, tenantId: string, campaignId: string) {
  const row = await transition(db, tenantId, campaignId, "cancel", "cancelled", sql`, completed_at = now()`);
  if (row.started) await progressStub(env, campaignId).setState("cancelled");
}

/**
 * Puts failed recipients back in the queue. Outcome-unknown failures stay failed: they may have
 * been delivered, and a duplicate is worse than a miss.
 */
export async function retryFailed(db: Db, env: Env, tenantId: string, campaignId: string): Promise<number> {
  const marked = await db.execute<{ n: number }>(sql`
    WITH c AS (
      SELECT message_month FROM campaigns
      WHERE tenant_id = ${tenantId} AND id = ${campaignId} AND state IN ('completed', 'failed')
    ), m AS (
      UPDATE messages SET status = 'retrying', updated_at = now()
      WHERE month = (SELECT message_month FROM c) AND tenant_id = ${tenantId} AND campaign_id = ${campaignId}
        AND status = 'failed' AND (error IS NULL OR error NOT LIKE 'outcome_unknown%')
      RETURNING 1
    )
    SELECT count(*)::int AS n FROM m`);
  const n = marked.rows[0]?.n ?? 0;
  if (n === 0) {
    const why = await whyNot(db, tenantId, campaignId, ALLOWED_FROM.retry_failed);
    // Unknown campaign or wrong state explain themselves; otherwise there is simply nothing to do.
    if (why.code === "not_found" || why.options.extensions?.state) throw why;
    throw new HeraldError("conflict", "there are no failed recipients to retry");
  }
  const { previous } = await transition(db, tenantId, campaignId, "retry_failed", "sending", sql`, completed_at = NULL`);
  try {
    await progressStub(env, campaignId).retrying(n);
    await queueFanout(env, tenantId, campaignId, "retry");
  } catch (err) {
    // Nothing will send them: put the recipients and the campaign back as they were.
    await db.execute(sql`
      UPDATE messages SET status = 'failed' WHERE tenant_id = ${tenantId} AND campaign_id = ${campaignId} AND status = 'retrying'`);
    await db.execute(sql`
      UPDATE campaigns SET state = ${previous}, completed_at = now() WHERE tenant_id = ${tenantId} AND id = ${campaignId} AND state = 'sending'`);
    await progressStub(env, campaignId).setState(previous).catch(() => {});
    throw err;
  }
  return n;
}

function queueFanout(env: Env, tenantId: string, campaignId: string, mode: FanoutMessage["mode"]) {
  return sendFanout(env, { type: "campaign_fanout", tenant_id: tenantId, campaign_id: campaignId, mode, cursor: null, seen: 0 });
}
