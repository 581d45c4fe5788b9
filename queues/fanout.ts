import { sql } from "drizzle-orm";
import { pgArray } from "../src/lib/sql";
import { enqueueRecipients, sendFanout } from "../src/campaigns/enqueue";
import { FanoutMessage, type Recipient } from "../src/campaigns/messages";
import { progressStub } from "../src/campaigns/progress";
import { uuidv7 } from "../src/lib/ids";
import type { Db } from "../src/services/db";
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
 * Expands a campaign's audience page by page: each step reads one keyset page of contacts, records
 * the undeliverable ones (unsubscribed, bounced, complained, suppressed) as skipped, queues the rest
 * in send messages of up to 100, then queues the next step. Re-running a step is harmless: claims in
 * the message log stop a recipient from being mailed twice.
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
  if (msg.mode === "retry") return retryStep(msg, campaign, { env, db });

  const rows = await audiencePage(db, msg, campaign);
  const skipped = rows.filter((r) => !r.deliverable);
  const recipients: Recipient[] = rows.filter((r) => r.deliverable).map((r) => ({ c: r.id, e: r.email, n: r.name, a: r.attributes ?? {} }));

  let newlySkipped = 0;
  if (skipped.length > 0) {
    const inserted = await db().execute(sql`
      INSERT INTO messages (month, id, tenant_id, campaign_id, contact_id, email, status, error)
      SELECT ${campaign.message_month}::date, s.id, ${msg.tenant_id}, ${msg.campaign_id}, s.contact_id, s.email, 'skipped', 'suppressed or unsubscribed'
      FROM unnest(${pgArray(skipped.map(() => uuidv7()))}::uuid[], ${pgArray(skipped.map((r) => r.id))}::uuid[], ${pgArray(skipped.map((r) => r.email))}::text[]) AS s(id, contact_id, email)
      ON CONFLICT (month, campaign_id, contact_id) DO NOTHING
      RETURNING 1`);
    newlySkipped = inserted.rows.length;
  }
  if (recipients.length > 0) {
    await enqueueRecipients(
      env.SEND_QUEUE,
      { type: "campaign_send", tenant_id: msg.tenant_id, campaign_id: msg.campaign_id, month: campaign.message_month },
      recipients,
    );
  }

  const seen = msg.seen + rows.length;
  const last = rows.length < FANOUT_PAGE_SIZE;
  if (!last) {
    await sendFanout(env, { ...msg, cursor: rows[rows.length - 1]!.id, seen } satisfies FanoutMessage);
  }
  const progress = progressStub(env, msg.campaign_id);
  if (newlySkipped > 0) await progress.report({ sent: 0, failed: 0, skipped: newlySkipped });
  // The launch-time count was an estimate; the enumeration is exact.
  if (last && msg.mode === "launch") await progress.setTotal(seen);
  logger.info("fan-out step", { campaign_id: msg.campaign_id, mode: msg.mode, page: rows.length, queued: recipients.length, skipped: newlySkipped, last });
};

async function audiencePage(db: () => Db, msg: FanoutMessage, campaign: CampaignRow) {
  const after = msg.cursor ?? "00000000-0000-0000-0000-000000000000";
  // Members who joined after launch are not part of this send; resume skips anyone already handled.
  const unhandled =
    msg.mode === "resume"
      ? sql`AND NOT EXISTS (SELECT 1 FROM messages x WHERE x.month = ${campaign.message_month}::date AND x.campaign_id = ${msg.campaign_id} AND x.contact_id = c.id AND x.status <> 'retrying')`
      : sql``;
  const result = await db().execute<AudienceRow>(sql`
    SELECT c.id, c.email, c.name, c.attributes,
      (c.status = 'active' AND NOT EXISTS (SELECT 1 FROM suppressions s WHERE s.tenant_id = c.tenant_id AND s.email = c.email)) AS deliverable
    FROM contacts c
    WHERE c.tenant_id = ${msg.tenant_id}
      AND c.id > ${after}
      AND EXISTS (
        SELECT 1 FROM list_members m
        WHERE m.tenant_id = c.tenant_id AND m.contact_id = c.id
          AND m.list_id = ANY(${pgArray(campaign.list_ids)}::uuid[]) AND m.created_at <= ${campaign.started_at}::timestamptz)
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
  const page = await db().execute<AudienceRow>(sql`
    SELECT c.id, c.email, c.name, c.attributes, true AS deliverable
    FROM messages x JOIN contacts c ON c.tenant_id = x.tenant_id AND c.id = x.contact_id
    WHERE x.month = ${campaign.message_month}::date AND x.tenant_id = ${msg.tenant_id} AND x.campaign_id = ${msg.campaign_id}
      AND x.status = 'retrying' AND x.contact_id > ${after}
    ORDER BY x.contact_id
    LIMIT ${FANOUT_PAGE_SIZE}`);
  const rows = page.rows;
  if (rows.length === 0) return;
  await enqueueRecipients(
    env.SEND_QUEUE,
    { type: "campaign_send", tenant_id: msg.tenant_id, campaign_id: msg.campaign_id, month: campaign.message_month },
    rows.map((r) => ({ c: r.id, e: r.email, n: r.name, a: r.attributes ?? {} })),
  );
  if (rows.length === FANOUT_PAGE_SIZE) {
    await sendFanout(env, { ...msg, cursor: rows[rows.length - 1]!.id, seen: msg.seen + rows.length } satisfies FanoutMessage);
  }
}
