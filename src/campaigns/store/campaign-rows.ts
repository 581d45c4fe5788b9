import { and, eq, inArray, sql, type SQL } from "drizzle-orm";
import { campaigns } from "../../db/schema";
import { uuidv7 } from "../../lib/ids";
import { pgArray } from "../../lib/sql";
import { clipCodePoints } from "../../lib/text";
import type { Db } from "../../services/db";
import { allowedFrom, type CampaignAction, type CampaignState } from "../machine";

/**
 * The one owner of SQL that changes a campaign row (fan-out's planning aside, in fanout-rows.ts).
 * Every state change is conditional on the machine's `from` states, so two actors racing cannot
 * both win.
 */

/** Moves a campaign by `action` in one conditional statement; undefined when it was not in an allowed state. */
export async function transitionRow(
  db: Db,
  tenantId: string,
  campaignId: string,
  action: CampaignAction,
  to: CampaignState,
  extra: SQL = sql``,
) {
  const result = await db.execute<{ previous: CampaignState; started: boolean }>(sql`
    UPDATE campaigns c SET state = ${to}, updated_at = now() ${extra}
    FROM (SELECT id, state AS previous FROM campaigns WHERE tenant_id = ${tenantId} AND id = ${campaignId} FOR UPDATE) old
    WHERE c.tenant_id = ${tenantId} AND c.id = old.id AND old.previous = ANY(${pgArray(allowedFrom(action))}::text[])
    RETURNING old.previous, (c.started_at IS NOT NULL) AS started`);
  return result.rows[0];
}

/** Puts a campaign back from `from` to `to` after the work that followed a transition could not be queued. */
export async function revertState(
  db: Db,
  tenantId: string,
  campaignId: string,
  from: CampaignState,
  to: CampaignState,
  extra: SQL = sql``,
) {
  await db.execute(
    sql`UPDATE campaigns SET state = ${to} ${extra} WHERE tenant_id = ${tenantId} AND id = ${campaignId} AND state = ${from}`,
  );
}

export interface CampaignFacts {
  state: CampaignState;
  hasTemplate: boolean;
}

export async function campaignFacts(db: Db, tenantId: string, campaignId: string): Promise<CampaignFacts | undefined> {
  const found = await db.execute<{ state: CampaignState; has_template: boolean }>(sql`
    SELECT c.state, (t.id IS NOT NULL) AS has_template FROM campaigns c
    LEFT JOIN templates t ON t.tenant_id = c.tenant_id AND t.id = c.template_id
    WHERE c.tenant_id = ${tenantId} AND c.id = ${campaignId}`);
  const row = found.rows[0];
  return row ? { state: row.state, hasTemplate: row.has_template } : undefined;
}

export interface LaunchedRow extends Record<string, unknown> {
  id: string;
  state: CampaignState;
  previous: CampaignState;
  started_at: string;
  total: number;
}

/**
 * In one statement: the campaign moves to `sending`, snapshots its template and message month, and
 * its audience is counted (fan-out's plan gives the exact figure later).
 */
export async function launchRow(db: Db, tenantId: string, campaignId: string): Promise<LaunchedRow | undefined> {
  const result = await db.execute<LaunchedRow>(sql`
    WITH target AS (
      SELECT c.id, c.state AS previous, t.id AS template_id, t.version, t.subject, t.html, t.text
      FROM campaigns c JOIN templates t ON t.tenant_id = c.tenant_id AND t.id = c.template_id
      WHERE c.tenant_id = ${tenantId} AND c.id = ${campaignId} AND c.state = ANY(${pgArray(allowedFrom("launch"))}::text[])
      FOR UPDATE OF c
    )
    UPDATE campaigns c SET
      state = 'sending', started_at = now(), updated_at = now(), completed_at = NULL,
      sent = 0, failed = 0, skipped = 0, unknown = 0, failure_reason = NULL, blocked_since = NULL,
      message_month = date_trunc('month', now() AT TIME ZONE 'UTC')::date,
      template_snapshot = jsonb_build_object('id', target.template_id, 'version', target.version,
        'subject', target.subject, 'html', target.html, 'text', target.text),
      total = (SELECT count(DISTINCT m.contact_id) FROM list_members m
               WHERE m.tenant_id = c.tenant_id AND m.list_id = ANY(c.list_ids))
    FROM target WHERE c.tenant_id = ${tenantId} AND c.id = target.id
    RETURNING c.id, c.state, target.previous, c.started_at::text AS started_at, c.total`);
  return result.rows[0];
}

/**
 * Moves a campaign that is scheduled, sending or paused to `failed`, with the reason in words.
 * Returns whether it moved (false when it had already ended or does not exist).
 */
export async function failCampaign(db: Db, tenantId: string, campaignId: string, reason: string): Promise<boolean> {
  const result = await db.execute(sql`
    UPDATE campaigns SET state = 'failed', failure_reason = ${clipCodePoints(reason, 500)}, completed_at = now(), updated_at = now()
    WHERE tenant_id = ${tenantId} AND id = ${campaignId} AND state = ANY(${pgArray(allowedFrom("fail"))}::text[])
    RETURNING 1`);
  return result.rows.length > 0;
}

/** Due scheduled campaigns, at most `perTenant` per tenant and `limit` in all, oldest first within each tenant. */
export async function dueCampaigns(
  db: Db,
  perTenant: number,
  limit: number,
): Promise<{ id: string; tenant_id: string; launch_attempts: number }[]> {
  const due = await db.execute<{ id: string; tenant_id: string; launch_attempts: number }>(sql`
    SELECT id, tenant_id, launch_attempts FROM (
      SELECT id, tenant_id, launch_attempts, scheduled_at,
        row_number() OVER (PARTITION BY tenant_id ORDER BY scheduled_at, id) AS rank
      FROM campaigns WHERE state = 'scheduled' AND scheduled_at <= now()
    ) d WHERE rank <= ${perTenant}
    ORDER BY rank, scheduled_at LIMIT ${limit}`);
  return due.rows;
}

/** Counts a failed launch attempt of a scheduled campaign; returns the attempts so far. */
export async function countLaunchAttempt(db: Db, tenantId: string, campaignId: string, reason: string): Promise<number> {
  const result = await db.execute<{ n: number }>(sql`
    UPDATE campaigns SET launch_attempts = launch_attempts + 1, failure_reason = ${clipCodePoints(reason, 500)}, updated_at = now()
    WHERE tenant_id = ${tenantId} AND id = ${campaignId} AND state = 'scheduled'
    RETURNING launch_attempts AS n`);
  return result.rows[0]?.n ?? 0;
}

/**
 * Notes that no provider of the policy could take the campaign's mail now, and returns for how many
 * seconds that has been so (0 on the first such note), or undefined when the campaign is not sending.
 */
export async function noteBlocked(db: Db, tenantId: string, campaignId: string): Promise<number | undefined> {
  const result = await db.execute<{ seconds: number }>(sql`
    UPDATE campaigns SET blocked_since = coalesce(blocked_since, now())
    WHERE tenant_id = ${tenantId} AND id = ${campaignId} AND state = 'sending'
    RETURNING extract(epoch FROM now() - blocked_since)::float8 AS seconds`);
  return result.rows[0]?.seconds;
}

/** Some of the campaign's messages wait `seconds` (a rate limit, a daily quota): the cron's repair leaves it alone meanwhile. */
export async function noteWaiting(db: Db, tenantId: string, campaignId: string, seconds: number): Promise<void> {
  await db.execute(sql`
    UPDATE campaigns SET waiting_until = greatest(coalesce(waiting_until, now()), now() + make_interval(secs => ${Math.ceil(seconds)}))
    WHERE tenant_id = ${tenantId} AND id = ${campaignId} AND state = 'sending'`);
}

/** The campaign's state, for a sender that has nothing to claim but must not wait on a cancelled campaign. */
export async function campaignState(db: Db, tenantId: string, campaignId: string): Promise<CampaignState | undefined> {
  const result = await db.execute<{ state: CampaignState }>(
    sql`SELECT state FROM campaigns WHERE tenant_id = ${tenantId} AND id = ${campaignId}`,
  );
  return result.rows[0]?.state;
}

type CampaignRow = typeof campaigns.$inferSelect;
/** The columns a user sets on a draft: everything but identity, state and the pipeline's bookkeeping. */
export type DraftColumns = Pick<
  typeof campaigns.$inferInsert,
  "name" | "templateId" | "listIds" | "fromAddress" | "replyTo" | "providerIds" | "data" | "trackOpens" | "trackClicks"
>;

export async function createCampaignRow(
  db: Db,
  tenantId: string,
  columns: DraftColumns & Pick<CampaignRow, "name" | "listIds" | "fromAddress" | "providerIds">,
): Promise<CampaignRow> {
  const [row] = await db
    .insert(campaigns)
    .values({ id: uuidv7(), tenantId, ...columns })
    .returning();
  return row!;
}

/** Changes a campaign that may still be edited; undefined when its state no longer allows it. */
export async function editCampaignRow(
  db: Db,
  tenantId: string,
  campaignId: string,
  columns: Partial<DraftColumns>,
): Promise<CampaignRow | undefined> {
  const [row] = await db
    .update(campaigns)
    .set({ ...columns, updatedAt: new Date() })
    .where(and(eq(campaigns.tenantId, tenantId), eq(campaigns.id, campaignId), inArray(campaigns.state, [...allowedFrom("edit")])))
    .returning();
  return row;
}

/** Deletes a campaign that is not running; false when its state does not allow it. */
export async function deleteCampaignRow(db: Db, tenantId: string, campaignId: string): Promise<boolean> {
  const deleted = await db
    .delete(campaigns)
    .where(and(eq(campaigns.tenantId, tenantId), eq(campaigns.id, campaignId), inArray(campaigns.state, [...allowedFrom("delete")])))
    .returning({ id: campaigns.id });
  return deleted.length > 0;
}
