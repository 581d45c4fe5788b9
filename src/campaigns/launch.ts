import { sql } from "drizzle-orm";
import type { CampaignState } from "../db/schema";
import { HeraldError } from "../errors";
import type { Db } from "../services/db";
import { sendFanout } from "./enqueue";
import { progressStub } from "./progress";
import { ALLOWED_FROM } from "./state";

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
  const from = ALLOWED_FROM.launch;
  const result = await db.execute<{ id: string; state: CampaignState; previous: CampaignState; started_at: string; total: number }>(sql`
    WITH target AS (
      SELECT c.id, c.state AS previous, t.id AS template_id, t.version, t.subject, t.html, t.text
      FROM campaigns c JOIN templates t ON t.tenant_id = c.tenant_id AND t.id = c.template_id
      WHERE c.tenant_id = ${tenantId} AND c.id = ${campaignId} AND c.state IN ('draft', 'scheduled')
      FOR UPDATE OF c
    )
    UPDATE campaigns c SET
      state = 'sending', started_at = now(), updated_at = now(), completed_at = NULL,
      sent = 0, failed = 0, skipped = 0,
      message_month = date_trunc('month', now() AT TIME ZONE 'UTC')::date,
      template_snapshot = jsonb_build_object('id', target.template_id, 'version', target.version,
        'subject', target.subject, 'html', target.html, 'text', target.text),
      total = (SELECT count(DISTINCT m.contact_id) FROM list_members m
               WHERE m.tenant_id = c.tenant_id AND m.list_id = ANY(c.list_ids))
    FROM target WHERE c.tenant_id = ${tenantId} AND c.id = target.id
    RETURNING c.id, c.state, target.previous, c.started_at::text AS started_at, c.total`);
  const row = result.rows[0];
  if (!row) throw await whyNot(db, tenantId, campaignId, from);

  const progress = progressStub(env, campaignId);
  try {
    await progress.start({ tenantId, campaignId, total: row.total });
    await sendFanout(env, { type: "campaign_fanout", tenant_id: tenantId, campaign_id: campaignId, mode: "launch", cursor: null, seen: 0 });
  } catch (err) {
    // Nothing was queued, so put the campaign back where it was rather than leave it stuck.
    await db.execute(sql`UPDATE campaigns SET state = ${row.previous}, started_at = NULL WHERE tenant_id = ${tenantId} AND id = ${campaignId} AND state = 'sending'`);
    await progress.setState(row.previous).catch(() => {});
    throw err;
  }
  return { id: row.id, state: row.state, total: row.total, startedAt: row.started_at };
}

/** Explains a refused transition: unknown campaign (404), wrong state (409) or no template (422). */
export async function whyNot(db: Db, tenantId: string, campaignId: string, from: readonly CampaignState[]): Promise<HeraldError> {
  const found = await db.execute<{ state: CampaignState; has_template: boolean }>(sql`
    SELECT c.state, (t.id IS NOT NULL) AS has_template FROM campaigns c
    LEFT JOIN templates t ON t.tenant_id = c.tenant_id AND t.id = c.template_id
    WHERE c.tenant_id = ${tenantId} AND c.id = ${campaignId}`);
  const row = found.rows[0];
  if (!row) return new HeraldError("not_found", "no such campaign");
  if (!from.includes(row.state)) {
    return new HeraldError("conflict", `the campaign is ${row.state}; this needs it to be ${from.join(" or ")}`, {
      extensions: { state: row.state },
    });
  }
  if (!row.has_template) {
    return new HeraldError("validation_failed", "the campaign's template no longer exists", {
      errors: [{ field: "body.template_id", message: "template not found" }],
    });
  }
  return new HeraldError("conflict", "the campaign changed while launching; try again");
}
