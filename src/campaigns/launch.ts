import type { CampaignState } from "./machine";
import { allowedFrom } from "./machine";
import { HeraldError } from "../errors";
import type { Db } from "../services/db";
import { sendFanout } from "./enqueue";
import { campaignFacts, launchRow, revertState } from "./store/campaign-rows";
import { sql } from "drizzle-orm";
import { progressStub } from "../services/durable-objects";

export interface Launched {
  id: string;
  state: CampaignState;
  total: number;
  startedAt: string;
}

/**
 * Starts sending: in one statement the campaign moves to `sending`, snapshots its template and
 * message month, and the audience is counted; then CampaignProgress gets the total and the first
 * fan-out step is queued. The work is proportional to nothing but a count, so it answers in
 * milliseconds whatever the audience size.
 */
export async function launchCampaign(db: Db, env: Env, tenantId: string, campaignId: string): Promise<Launched> {
  const row = await launchRow(db, tenantId, campaignId);
  if (!row) throw await whyNot(db, tenantId, campaignId, allowedFrom("launch"));

  const progress = progressStub(env, campaignId);
  try {
    await progress.start({ tenantId, campaignId, total: row.total });
    await sendFanout(env, { type: "campaign_fanout", tenant_id: tenantId, campaign_id: campaignId, mode: "launch", cursor: null, seen: 0 });
  } catch (err) {
    // Nothing was queued, so put the campaign back where it was rather than leave it stuck.
    await revertState(db, tenantId, campaignId, "sending", row.previous, sql`, started_at = NULL`);
    await progress.setState(row.previous).catch(() => {});
    throw err;
  }
  return { id: row.id, state: row.state, total: row.total, startedAt: row.started_at };
}

/** Explains a refused transition: unknown campaign (404), wrong state (409) or no template (422). */
export async function whyNot(db: Db, tenantId: string, campaignId: string, from: readonly CampaignState[]): Promise<HeraldError> {
  const row = await campaignFacts(db, tenantId, campaignId);
  if (!row) return new HeraldError("not_found", "no such campaign");
  if (!from.includes(row.state)) {
    return new HeraldError("conflict", `the campaign is ${row.state}; this needs it to be ${from.join(" or ")}`, {
      extensions: { state: row.state },
    });
  }
  if (!row.hasTemplate) {
    return new HeraldError("validation_failed", "the campaign's template no longer exists", {
      errors: [{ field: "body.template_id", message: "template not found" }],
    });
  }
  return new HeraldError("conflict", "the campaign changed while launching; try again");
}
