import { sql } from "drizzle-orm";
import { pgArray } from "../src/lib/sql";
import { enqueueRecipients, sendFanout, sendFanouts } from "../src/campaigns/enqueue";
import { FanoutMessage, type Recipient } from "../src/campaigns/messages";
import { progressStub } from "../src/campaigns/progress";
import { uuidv7 } from "../src/lib/ids";
import type { Db } from "../src/services/db";
import type { Logger } from "../src/services/logger";
import type { MessageHandler } from "./handler";

/** Contacts per fan-out step; each step is one keyset page and one queue message. */
export const FANOUT_PAGE_SIZE = 5000;

interface AudienceRow extends Record<string, unknown> {
  id: string;
  email: string;
  name: string | null;
  attributes: Record<string, unknown>;
  deliverable: boolean;
}

interface CampaignRow extends Record<string, unknown> {
  state: string;
  list_ids: string[];
  message_month: string;
  started_at: string;
}

/**
 * Expands a campaign's audience. Launch plans it: one query numbers the audience and cuts it into
 * ranges of FANOUT_PAGE_SIZE, which are queued together so they expand in parallel, and the exact
 * total goes to CampaignProgress. Each range (or, for resume and retry, each page of a chain)
 * records its undeliverable contacts (unsubscribed, bounced, complained, suppressed) as skipped
 * and queues the rest in send messages of up to 100. Re-running a step is harmless: claims in the
 * message log stop a recipient from being mailed twice.
 */
export const handleFanout: MessageHandler = async (raw, { env, db, logger }) => {
  const msg = FanoutMessage.parse(raw);
  const campaign = (
    await db().execute<CampaignRow>(sql`
      SELECT state, list_ids, to_char(message_month, 'YYYY-MM-DD') AS message_month, started_at
      FROM campaigns WHERE tenant_id = ${msg.tenant_id} AND id = ${msg.campaign_id}`)
  ).rows[0];
  if (!campaign || campaign.state !== "sending") {
    logger.info("fan-out stopped: campaign is not sending", { campaign_id: msg.campaign_id, state: campaign?.state });
    return;
  }
  if (msg.mode === "launch") return planRanges(msg, campaign, { env, db, logger });
  if (msg.mode === "retry") return retryStep(msg, campaign, { env, db });

  const t0 = Date.now();
  const rows = await audiencePage(db, msg, campaign);
  const tQuery = Date.now() - t0;
  const skipped = rows.filter((r) => !r.deliverable);
  const recipients: Recipient[] = rows.filter((r) => r.deliverable).map((r) => ({ c: r.id, e: r.email, n: r.name, a: r.attributes ?? {} }));

  let newlySkipped = 0;
  if (skipped.length > 0) {
    const inserted = await db().execute(sql`
      INSERT INTO messages (month, id, tenant_id, campaign_id, contact_id, email, status, error)
      SELECT ${campaign.message_month}::date, s.id, ${msg.tenant_id}, ${msg.campaign_id}, s.contact_id, s.email, 'skipped', 'suppressed or unsubscribed'
      FROM unnest(${pgArray(skipped.map(() => uuidv7()))}::uuid[], ${pgArray(skipped.map((r) => r.id))}::uuid[], ${pgArray(skipped.map((r) => r.email))}::text[]) AS s(id, contact_id, email)
      ON CONFLICT (month, campaign_id, contact_id) DO UPDATE
        SET status = 'skipped', error = EXCLUDED.error, updated_at = now()
        WHERE messages.status = 'retrying'
      RETURNING 1`);
    newlySkipped = inserted.rows.length;
  }
  const t1 = Date.now();
  if (recipients.length > 0) {
    await enqueueRecipients(
      env.SEND_QUEUE,
      { type: "campaign_send", tenant_id: msg.tenant_id, campaign_id: msg.campaign_id, month: campaign.message_month },
      recipients,
    );
  }
  // Contacts deleted since the plan counted them will never be sent; they count as skipped so the
  // campaign can still complete.
  const vanished = msg.mode === "range" ? Math.max(0, (msg.expected ?? 0) - rows.length) : 0;
  if (msg.mode === "resume" && rows.length === FANOUT_PAGE_SIZE) {
    await sendFanout(env, { ...msg, cursor: rows[rows.length - 1]!.id, seen: msg.seen + rows.length });
  }
  if (newlySkipped + vanished > 0) await progressStub(env, msg.campaign_id).report({ sent: 0, failed: 0, skipped: newlySkipped, vanished });
  logger.info("fan-out step", { campaign_id: msg.campaign_id, mode: msg.mode, page: rows.length, queued: recipients.length, skipped: newlySkipped, vanished, query_ms: tQuery, enqueue_ms: Date.now() - t1 });
};

/** The audience of a campaign as SQL conditions on contacts `c`: list members as of launch. */
function audienceOf(msg: FanoutMessage, campaign: CampaignRow) {
  return sql`c.tenant_id = ${msg.tenant_id}
      AND EXISTS (
        SELECT 1 FROM list_members m
        WHERE m.tenant_id = c.tenant_id AND m.contact_id = c.id
          AND m.list_id = ANY(${pgArray(campaign.list_ids)}::uuid[]) AND m.created_at <= ${campaign.started_at}::timestamptz)`;
}

/** One statement numbers the audience and returns every FANOUT_PAGE_SIZE-th id and the last. */
async function planRanges(msg: FanoutMessage, campaign: CampaignRow, { env, db, logger }: { env: Env; db: () => Db; logger: Logger }) {
  const cuts = await db().execute<{ id: string; rn: number; total: number }>(sql`
    WITH numbered AS (
      SELECT c.id, row_number() OVER (ORDER BY c.id)::int AS rn, count(*) OVER ()::int AS total
      FROM contacts c WHERE ${audienceOf(msg, campaign)}
    )
    SELECT id, rn, total FROM numbered WHERE rn % ${FANOUT_PAGE_SIZE} = 0 OR rn = total ORDER BY rn`);
  const total = cuts.rows[0]?.total ?? 0;
  let lo: string | null = null;
  let before = 0;
  const ranges: FanoutMessage[] = [];
  for (const cut of cuts.rows) {
    ranges.push({ ...msg, mode: "range", cursor: lo, until: cut.id, expected: cut.rn - before, seen: before });
    lo = cut.id;
    before = cut.rn;
  }
  // The launch-time count was an estimate; this enumeration is exact. Set before the ranges go, so
  // a failure here re-plans without any range having run.
  await progressStub(env, msg.campaign_id).setTotal(total);
  await sendFanouts(env, ranges);
  logger.info("fan-out planned", { campaign_id: msg.campaign_id, total, ranges: ranges.length });
}

/**
 * One keyset page of the audience. It is driven from list_members' primary key (tenant, list,
 * contact), so it stays an index walk even on tables too freshly filled to have statistics.
 */
async function audiencePage(db: () => Db, msg: FanoutMessage, campaign: CampaignRow) {
  const after = msg.cursor ?? "00000000-0000-0000-0000-000000000000";
  const upTo = msg.mode === "range" && msg.until ? sql`AND m.contact_id <= ${msg.until}` : sql``;
  // Resume skips anyone already handled (a `retrying` row is not handled: its batch was released).
  const unhandled =
    msg.mode === "resume"
      ? sql`AND NOT EXISTS (SELECT 1 FROM messages x WHERE x.month = ${campaign.message_month}::date AND x.campaign_id = ${msg.campaign_id} AND x.contact_id = c.id AND x.status <> 'retrying')`
      : sql``;
  const result = await db().execute<AudienceRow>(sql`
    SELECT c.id, c.email, c.name, c.attributes,
      (c.status = 'active' AND NOT EXISTS (SELECT 1 FROM suppressions s WHERE s.tenant_id = c.tenant_id AND s.email = c.email)) AS deliverable
    FROM contacts c
    WHERE c.tenant_id = ${msg.tenant_id}
      AND c.id IN (
        SELECT m.contact_id FROM list_members m
        WHERE m.tenant_id = ${msg.tenant_id} AND m.list_id = ANY(${pgArray(campaign.list_ids)}::uuid[])
          AND m.contact_id > ${after} ${upTo} AND m.created_at <= ${campaign.started_at}::timestamptz)
      ${unhandled}
    ORDER BY c.id
    LIMIT ${FANOUT_PAGE_SIZE}`);
  return result.rows;
}

/**
 * retry-failed: queues a page of the recipients the API marked `retrying`; the send consumer's
 * claim takes those rows over. Keyset paging by contact id makes a re-run step harmless.
 */
async function retryStep(msg: FanoutMessage, campaign: CampaignRow, { env, db }: { env: Env; db: () => Db }) {
  const after = msg.cursor ?? "00000000-0000-0000-0000-000000000000";
  const page = await db().execute<AudienceRow & { contact_id: string }>(sql`
    SELECT x.contact_id, c.id, c.email, c.name, c.attributes, true AS deliverable
    FROM messages x LEFT JOIN contacts c ON c.tenant_id = x.tenant_id AND c.id = x.contact_id
    WHERE x.month = ${campaign.message_month}::date AND x.tenant_id = ${msg.tenant_id} AND x.campaign_id = ${msg.campaign_id}
      AND x.status = 'retrying' AND x.contact_id > ${after}
    ORDER BY x.contact_id
    LIMIT ${FANOUT_PAGE_SIZE}`);
  if (page.rows.length === 0) return;
  const rows = page.rows.filter((r) => r.id !== null);
  const gone = page.rows.filter((r) => r.id === null).map((r) => r.contact_id);
  if (gone.length > 0) {
    // Contacts deleted since they failed: nobody left to mail, so their rows end as skipped.
    const settled = await db().execute(sql`
      UPDATE messages SET status = 'skipped', error = 'contact deleted', updated_at = now()
      WHERE month = ${campaign.message_month}::date AND tenant_id = ${msg.tenant_id} AND campaign_id = ${msg.campaign_id}
        AND status = 'retrying' AND contact_id = ANY(${pgArray(gone)}::uuid[])
      RETURNING 1`);
    if (settled.rows.length > 0) await progressStub(env, msg.campaign_id).report({ sent: 0, failed: 0, skipped: settled.rows.length });
  }
  if (rows.length > 0) {
    await enqueueRecipients(
      env.SEND_QUEUE,
      { type: "campaign_send", tenant_id: msg.tenant_id, campaign_id: msg.campaign_id, month: campaign.message_month },
      rows.map((r) => ({ c: r.id, e: r.email, n: r.name, a: r.attributes ?? {} })),
    );
  }
  if (page.rows.length === FANOUT_PAGE_SIZE) {
    await sendFanout(env, { ...msg, cursor: page.rows[page.rows.length - 1]!.contact_id, seen: msg.seen + page.rows.length } satisfies FanoutMessage);
  }
}
