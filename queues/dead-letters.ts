import { sql } from "drizzle-orm";
import { FanoutMessage, SendMessage } from "../src/campaigns/messages";
import { progressStub } from "../src/campaigns/progress";
import { uuidv7 } from "../src/lib/ids";
import { pgArray } from "../src/lib/sql";
import type { MessageHandler } from "./handler";

/**
 * A send message that exhausted its retries: its recipients that were never claimed (or were
 * released) are marked failed, so the campaign can still complete and retry-failed can pick them
 * up. A recipient still `claimed` may have been mailed; the sweeper settles it as outcome_unknown.
 */
export const handleDeadSend: MessageHandler = async (raw, { env, db, logger }) => {
  const msg = SendMessage.parse(raw);
  const result = await db().execute(sql`
    INSERT INTO messages AS m (month, id, tenant_id, campaign_id, contact_id, email, status, error)
    SELECT ${msg.month}::date, i.id, ${msg.tenant_id}, ${msg.campaign_id}, i.contact_id, i.email, 'failed', 'delivery abandoned after repeated failures'
    FROM unnest(${pgArray(msg.recipients.map(() => uuidv7()))}::uuid[], ${pgArray(msg.recipients.map((r) => r.c))}::uuid[], ${pgArray(msg.recipients.map((r) => r.e))}::text[])
      AS i(id, contact_id, email)
    ON CONFLICT (month, campaign_id, contact_id) DO UPDATE
      SET status = 'failed', error = EXCLUDED.error, updated_at = now()
      WHERE m.status = 'retrying'
    RETURNING 1`);
  const failed = result.rows.length;
  logger.error("send message dead-lettered", { campaign_id: msg.campaign_id, recipients: msg.recipients.length, marked_failed: failed });
  if (failed > 0) await progressStub(env, msg.campaign_id).report({ sent: 0, failed, skipped: 0 });
};

/** A fan-out step that kept failing: the campaign cannot reach its audience, so it fails visibly. */
export const handleDeadFanout: MessageHandler = async (raw, { env, db, logger }) => {
  const msg = FanoutMessage.parse(raw);
  const result = await db().execute(sql`
    UPDATE campaigns SET state = 'failed', completed_at = now(), updated_at = now()
    WHERE tenant_id = ${msg.tenant_id} AND id = ${msg.campaign_id} AND state IN ('sending', 'paused')
    RETURNING 1`);
  logger.error("fan-out dead-lettered; campaign failed", { campaign_id: msg.campaign_id, mode: msg.mode, cursor: msg.cursor });
  if (result.rows.length > 0) await progressStub(env, msg.campaign_id).setState("failed");
};
