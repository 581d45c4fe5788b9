import { sql } from "drizzle-orm";
import { uuidv7 } from "../../lib/ids";
import { pgArray } from "../../lib/sql";
import type { Db } from "../../services/db";
import { audienceOf, handledRow, NIL_UUID, rangeMembers, skipRows, type AudienceCampaign as Campaign, type Scope } from "./fanout-sql";

/** Contacts per fan-out page; each page is one keyset range and one queue message. */
export const FANOUT_PAGE_SIZE = 5000;

export interface FanoutCampaign extends Campaign {
  state: string;
  /** Fan-out planned it into campaign_pages (campaigns launched before pages existed have none). */
  paged: boolean;
}

/** A range of the audience as planned: contact ids in (after, until]. */
export interface PlannedPage {
  seq: number;
  after: string | null;
  until: string;
  expected: number;
}

export interface AudienceRow extends Record<string, unknown> {
  id: string;
  email: string;
  name: string | null;
  attributes: Record<string, unknown>;
  deliverable: boolean;
}

export interface RetryingRow extends Record<string, unknown> {
  contact_id: string;
  id: string | null;
  email: string;
  name: string | null;
  attributes: Record<string, unknown>;
  deliverable: true;
}

export async function loadFanoutCampaign(db: Db, tenantId: string, campaignId: string): Promise<FanoutCampaign | undefined> {
  const result = await db.execute<FanoutCampaign>(sql`
    SELECT c.state, c.list_ids, to_char(c.message_month, 'YYYY-MM-DD') AS message_month, c.started_at,
      EXISTS (SELECT 1 FROM campaign_pages p WHERE p.tenant_id = c.tenant_id AND p.campaign_id = c.id) AS paged
    FROM campaigns c WHERE c.tenant_id = ${tenantId} AND c.id = ${campaignId}`);
  return result.rows[0];
}

/**
 * Numbers the audience once and cuts it into pages of `pageSize`, written to campaign_pages with
 * the exact total on the campaign, in one transaction. The campaign row is locked first, so a plan
 * delivered twice (even at once) finds the first one's pages and returns them rather than cutting
 * a second, possibly different, set. Undefined when the campaign is no longer sending.
 */
export async function planPages(
  db: Db,
  tenantId: string,
  campaignId: string,
  pageSize = FANOUT_PAGE_SIZE,
): Promise<{ total: number; pages: PlannedPage[] } | undefined> {
  return db.transaction(async (tx) => {
    const locked = await tx.execute<Campaign>(sql`
      SELECT list_ids, to_char(message_month, 'YYYY-MM-DD') AS message_month, started_at
      FROM campaigns WHERE tenant_id = ${tenantId} AND id = ${campaignId} AND state = 'sending' FOR UPDATE`);
    const campaign = locked.rows[0];
    if (!campaign) return undefined;
    // A new statement sees pages committed by a plan that held the lock before us.
    const result = await tx.execute<{ total: number; pages: PlannedPage[] }>(sql`
      WITH numbered AS (
        SELECT c.id, row_number() OVER (ORDER BY c.id)::int AS rn, count(*) OVER ()::int AS total
        FROM contacts c WHERE ${audienceOf({ tenantId, campaignId, campaign })}
      ), cuts AS (
        SELECT (row_number() OVER (ORDER BY rn) - 1)::int AS seq, lag(id) OVER (ORDER BY rn) AS after, id AS until,
          (rn - coalesce(lag(rn) OVER (ORDER BY rn), 0))::int AS expected
        FROM numbered WHERE rn % ${pageSize} = 0 OR rn = total
      ), existing AS (
        SELECT seq, after, until, expected FROM campaign_pages WHERE tenant_id = ${tenantId} AND campaign_id = ${campaignId}
      ), inserted AS (
        INSERT INTO campaign_pages (tenant_id, campaign_id, seq, after, until, expected)
        SELECT ${tenantId}, ${campaignId}, seq, after, until, expected FROM cuts WHERE NOT EXISTS (SELECT 1 FROM existing)
        ON CONFLICT DO NOTHING
        RETURNING seq, after, until, expected
      ), pages AS (
        SELECT * FROM existing UNION ALL SELECT * FROM inserted
      ), totalled AS (
        UPDATE campaigns SET total = (SELECT coalesce(sum(expected), 0) FROM pages)::int, updated_at = now()
        WHERE tenant_id = ${tenantId} AND id = ${campaignId}
        RETURNING total
      )
      SELECT (SELECT total FROM totalled) AS total,
        coalesce((SELECT json_agg(json_build_object('seq', seq, 'after', after, 'until', until, 'expected', expected) ORDER BY seq) FROM pages), '[]'::json) AS pages`);
    const row = result.rows[0]!;
    return { total: row.total, pages: row.pages };
  });
}

/**
 * A page's audience members not yet handled (no message row, or one marked `retrying`), with what
 * rendering needs, and how many members the range has in all, handled or not. It may run on an
 * expanded page again (a redelivery, a resume): handled members are left out.
 */
export async function openRangeMembers(
  db: Db,
  s: Scope,
  range: { after: string | null; until: string },
): Promise<{ members: number; rows: AudienceRow[] }> {
  const result = await db.execute<AudienceRow & { members: number }>(sql`
    WITH ${rangeMembers(s, range, sql`x.status <> 'retrying'`)}
    SELECT n.members, c.id, c.email, c.name, c.attributes,
      (c.status = 'active' AND NOT EXISTS (SELECT 1 FROM suppressions s WHERE s.tenant_id = c.tenant_id AND s.email = c.email)) AS deliverable
    FROM (SELECT count(*)::int AS members FROM members) n
    LEFT JOIN (open o JOIN contacts c ON c.tenant_id = ${s.tenantId} AND c.id = o.id) ON true
    ORDER BY c.id`);
  return { members: result.rows[0]?.members ?? 0, rows: result.rows.filter((r) => r.id !== null) };
}

/**
 * Records a page's expansion in one statement: its undeliverable members as skipped rows, and the
 * page as `expanded` with `vanished` SET (members deleted since the plan). Only the delivery that
 * moves the page from planned returns its vanished, so a redelivery cannot report it twice.
 */
export async function markPageExpanded(
  db: Db,
  s: Scope,
  page: { seq: number | undefined; vanished: number },
  skipped: { id: string; email: string }[],
): Promise<{ newlySkipped: number; vanished: number }> {
  const result = await db.execute<{ skipped: number; vanished: number | null }>(sql`
    WITH skipped AS (${skipRows(s, skipped)}), page AS (
      UPDATE campaign_pages SET state = 'expanded', vanished = ${page.vanished}, updated_at = now()
      WHERE tenant_id = ${s.tenantId} AND campaign_id = ${s.campaignId} AND seq = ${page.seq ?? null} AND state = 'planned'
      RETURNING vanished
    )
    SELECT (SELECT count(*) FROM skipped)::int AS skipped, (SELECT vanished FROM page) AS vanished`);
  const row = result.rows[0];
  return { newlySkipped: row?.skipped ?? 0, vanished: row?.vanished ?? 0 };
}

/**
 * Gives up on a page: it becomes `failed` with the reason, and its members without a message row
 * get `failed` rows, so the rest of the campaign can complete. Returns the failed rows written and,
 * if the page had never been expanded, its vanished members; both are new, so safe to report.
 */
export async function failPage(
  db: Db,
  s: Scope,
  page: PlannedPage & { replans: number },
  reason: string,
): Promise<{ failed: number; vanished: number }> {
  // Just ids and emails: the failed rows need nothing else.
  const open = await db.execute<{ members: number; id: string | null; email: string | null }>(sql`
    WITH ${rangeMembers(s, page, sql`true`)}
    SELECT n.members, c.id, c.email
    FROM (SELECT count(*)::int AS members FROM members) n
    LEFT JOIN (open o JOIN contacts c ON c.tenant_id = ${s.tenantId} AND c.id = o.id) ON true`);
  const members = open.rows[0]?.members ?? 0;
  const rows = open.rows.filter((r): r is { members: number; id: string; email: string } => r.id !== null);
  const error = `could not be planned: ${reason}`.slice(0, 500);
  const result = await db.execute<{ failed: number; before: string | null; vanished: number | null }>(sql`
    WITH page AS (
      UPDATE campaign_pages p SET state = 'failed', error = ${reason.slice(0, 500)}, attempts = ${page.replans}, updated_at = now(),
        vanished = CASE WHEN old.state = 'planned' THEN ${Math.max(0, page.expected - members)} ELSE p.vanished END
      FROM (SELECT seq, state FROM campaign_pages WHERE tenant_id = ${s.tenantId} AND campaign_id = ${s.campaignId} AND seq = ${page.seq} FOR UPDATE) old
      WHERE p.tenant_id = ${s.tenantId} AND p.campaign_id = ${s.campaignId} AND p.seq = old.seq AND old.state <> 'failed'
      RETURNING old.state AS before, p.vanished
    ), failed AS (
      INSERT INTO messages (month, id, tenant_id, campaign_id, contact_id, email, status, error)
      SELECT ${s.campaign.message_month}::date, f.id, ${s.tenantId}, ${s.campaignId}, f.contact_id, f.email, 'failed', ${error}
      FROM unnest(${pgArray(rows.map(() => uuidv7()))}::uuid[], ${pgArray(rows.map((r) => r.id))}::uuid[], ${pgArray(rows.map((r) => r.email))}::text[]) AS f(id, contact_id, email)
      ON CONFLICT (month, campaign_id, contact_id) DO NOTHING
      RETURNING 1
    )
    SELECT (SELECT count(*) FROM failed)::int AS failed, (SELECT before FROM page) AS before, (SELECT vanished FROM page) AS vanished`);
  const row = result.rows[0];
  return { failed: row?.failed ?? 0, vanished: row?.before === "planned" ? (row.vanished ?? 0) : 0 };
}

/**
 * resume of a campaign planned without pages: the next page of its audience not yet handled, by
 * keyset on contact id. Driven from list_members' primary key (tenant, list, contact), so it stays
 * an index walk even on tables too freshly filled to have statistics.
 */
export async function unhandledAudiencePage(db: Db, s: Scope, after: string | null): Promise<AudienceRow[]> {
  const result = await db.execute<AudienceRow>(sql`
    SELECT c.id, c.email, c.name, c.attributes,
      (c.status = 'active' AND NOT EXISTS (SELECT 1 FROM suppressions s WHERE s.tenant_id = c.tenant_id AND s.email = c.email)) AS deliverable
    FROM contacts c
    WHERE c.tenant_id = ${s.tenantId}
      AND c.id IN (
        SELECT m.contact_id FROM list_members m
        WHERE m.tenant_id = ${s.tenantId} AND m.list_id = ANY(${pgArray(s.campaign.list_ids)}::uuid[])
          AND m.contact_id > ${after ?? NIL_UUID} AND m.created_at <= ${s.campaign.started_at}::timestamptz)
      AND NOT EXISTS (${handledRow(s, sql`c.id`, sql`x.status <> 'retrying'`)})
    ORDER BY c.id
    LIMIT ${FANOUT_PAGE_SIZE}`);
  return result.rows;
}

/** Skipped rows for undeliverable members (a `retrying` row becomes skipped too); returns how many changed. */
export async function recordSkipped(db: Db, s: Scope, skipped: { id: string; email: string }[]): Promise<number> {
  if (skipped.length === 0) return 0;
  return (await db.execute(skipRows(s, skipped))).rows.length;
}

/** retry-failed: the next page of recipients marked `retrying`; `id` is null for a contact deleted since. */
export async function retryingPage(db: Db, s: Scope, after: string | null): Promise<RetryingRow[]> {
  const result = await db.execute<RetryingRow>(sql`
    SELECT x.contact_id, c.id, c.email, c.name, c.attributes, true AS deliverable
    FROM messages x LEFT JOIN contacts c ON c.tenant_id = x.tenant_id AND c.id = x.contact_id
    WHERE x.month = ${s.campaign.message_month}::date AND x.tenant_id = ${s.tenantId} AND x.campaign_id = ${s.campaignId}
      AND x.status = 'retrying' AND x.contact_id > ${after ?? NIL_UUID}
    ORDER BY x.contact_id
    LIMIT ${FANOUT_PAGE_SIZE}`);
  return result.rows;
}

/** Retrying rows of contacts deleted since they failed: nobody is left to mail, so they end as skipped. */
export async function skipDeletedRetrying(db: Db, s: Scope, contactIds: string[]): Promise<number> {
  const result = await db.execute(sql`
    UPDATE messages SET status = 'skipped', error = 'contact deleted', updated_at = now()
    WHERE month = ${s.campaign.message_month}::date AND tenant_id = ${s.tenantId} AND campaign_id = ${s.campaignId}
      AND status = 'retrying' AND contact_id = ANY(${pgArray(contactIds)}::uuid[])
    RETURNING 1`);
  return result.rows.length;
}

/**
 * A send message that exhausted its retries: its recipients never claimed (or given back) become
 * failed. Returns how many rows changed.
 */
export async function failAbandonedRecipients(
  db: Db,
  p: { tenantId: string; campaignId: string; month: string; recipients: { c: string; e: string }[] },
): Promise<number> {
  const result = await db.execute(sql`
    INSERT INTO messages AS m (month, id, tenant_id, campaign_id, contact_id, email, status, error)
    SELECT ${p.month}::date, i.id, ${p.tenantId}, ${p.campaignId}, i.contact_id, i.email, 'failed', 'delivery abandoned after repeated failures'
    FROM unnest(${pgArray(p.recipients.map(() => uuidv7()))}::uuid[], ${pgArray(p.recipients.map((r) => r.c))}::uuid[], ${pgArray(p.recipients.map((r) => r.e))}::text[])
      AS i(id, contact_id, email)
    ON CONFLICT (month, campaign_id, contact_id) DO UPDATE
      SET status = 'failed', error = EXCLUDED.error, updated_at = now()
      WHERE m.status = 'retrying'
    RETURNING 1`);
  return result.rows.length;
}
