import { sql, type SQL } from "drizzle-orm";
import { uuidv7 } from "../../lib/ids";
import { pgArray } from "../../lib/sql";

// The SQL fragments fan-out's statements (fanout-rows.ts) are built from: a campaign's audience, a
// page's members and which of them are handled, and skipped rows.

/** Below every uuid: a keyset walk's start. */
export const NIL_UUID = "00000000-0000-0000-0000-000000000000";

/** What fan-out needs of a campaign row to find its audience and its message rows. */
export interface AudienceCampaign extends Record<string, unknown> {
  list_ids: string[];
  message_month: string;
  started_at: string;
}

/** One campaign's fan-out. */
export interface Scope {
  tenantId: string;
  campaignId: string;
  campaign: AudienceCampaign;
}

/** The audience of a campaign as SQL conditions on contacts `c`: list members as of launch. */
export function audienceOf(s: Scope): SQL {
  return sql`c.tenant_id = ${s.tenantId}
    AND EXISTS (
      SELECT 1 FROM list_members m
      WHERE m.tenant_id = c.tenant_id AND m.contact_id = c.id
        AND m.list_id = ANY(${pgArray(s.campaign.list_ids)}::uuid[]) AND m.created_at <= ${s.campaign.started_at}::timestamptz)`;
}

/** A message row of the campaign for contact `contact` matching `status`. */
export function handledRow(s: Scope, contact: SQL, status: SQL): SQL {
  return sql`SELECT 1 FROM messages x
    WHERE x.month = ${s.campaign.message_month}::date AND x.tenant_id = ${s.tenantId} AND x.campaign_id = ${s.campaignId}
      AND x.contact_id = ${contact} AND ${status}`;
}

/** CTEs `members` (the range's audience ids) and `open` (those without a message row matching `handled`). */
export function rangeMembers(s: Scope, range: { after: string | null; until: string }, handled: SQL): SQL {
  return sql`members AS MATERIALIZED (
      SELECT c.id FROM contacts c
      WHERE c.tenant_id = ${s.tenantId}
        AND c.id IN (
          SELECT m.contact_id FROM list_members m
          WHERE m.tenant_id = ${s.tenantId} AND m.list_id = ANY(${pgArray(s.campaign.list_ids)}::uuid[])
            AND m.contact_id > ${range.after ?? NIL_UUID} AND m.contact_id <= ${range.until}
            AND m.created_at <= ${s.campaign.started_at}::timestamptz)
    ), handled AS MATERIALIZED (
      -- The range's message rows through the claim index, bounded like the members: a planner without
      -- statistics on a fresh partition would otherwise probe every campaign row per member.
      SELECT x.contact_id FROM messages x
      WHERE x.month = ${s.campaign.message_month}::date AND x.campaign_id = ${s.campaignId}
        AND x.contact_id > ${range.after ?? NIL_UUID} AND x.contact_id <= ${range.until}
        AND x.contact_id IS NOT NULL AND x.tenant_id = ${s.tenantId} AND ${handled}
    ), open AS (
      SELECT a.id FROM members a WHERE a.id NOT IN (SELECT contact_id FROM handled)
    )`;
}

export function skipRows(s: Scope, skipped: { id: string; email: string }[]): SQL {
  return sql`
    INSERT INTO messages AS m (month, id, tenant_id, campaign_id, contact_id, email, status, error)
    SELECT ${s.campaign.message_month}::date, k.id, ${s.tenantId}, ${s.campaignId}, k.contact_id, k.email, 'skipped', 'suppressed or unsubscribed'
    FROM unnest(${pgArray(skipped.map(() => uuidv7()))}::uuid[], ${pgArray(skipped.map((r) => r.id))}::uuid[], ${pgArray(skipped.map((r) => r.email))}::text[]) AS k(id, contact_id, email)
    ON CONFLICT (month, campaign_id, contact_id) DO UPDATE
      SET status = 'skipped', error = EXCLUDED.error, updated_at = now()
      WHERE m.status = 'retrying'
    RETURNING 1`;
}
