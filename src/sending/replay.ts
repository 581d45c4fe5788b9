import { sql } from "drizzle-orm";
import { recordOutcomes, type Outcome } from "./store/message-rows";
import { deleteReplay, dueReplays, expireReplays, type ReplayRow } from "./store/replay-rows";
import { publishEvents, sendOutcomeEvent } from "../events/message";
import { ProviderError } from "../providers/types";
import { loadProviders } from "../providers/registry";
import { pgArray } from "../lib/sql";
import { createCache } from "../services/cache";
import type { Db } from "../services/db";
import type { Logger } from "../services/logger";
import { toOutcome } from "./send-all";
import { progressStub } from "../services/durable-objects";

/** Replays per cron tick: each is one provider request. */
const REPLAYS_PER_TICK = 50;

/**
 * Replays the exact requests of ambiguous batches under their idempotency keys (Resend): the
 * provider either recognises the key and answers as it did the first time, or was never reached
 * and sends now; either way each recipient gets the mail once. An answer that is ambiguous again,
 * or a refusal that means "not accepted now", leaves the replay for the next tick; past its window
 * (the provider keeps keys 24 h) its recipients become `unknown`.
 */
export async function replayAmbiguousBatches(db: Db, env: Env, logger: Logger): Promise<number> {
  let done = 0;
  for (const row of await dueReplays(db, REPLAYS_PER_TICK)) {
    try {
      if (await replayOne(db, env, row)) done++;
    } catch (err) {
      logger.warn("replay failed; will try again", { tenant_id: row.tenant_id, replay_id: row.id, err });
    }
  }
  for (const gone of await expireReplays(db)) {
    logger.warn("ambiguous batch not replayed within the idempotency window; recipients are unknown", gone);
    await settled(
      db,
      env,
      gone.tenant_id,
      gone.campaign_id,
      gone.ids.map((id) => ({ id, status: "unknown", error: "outcome_unknown: not replayed within the idempotency window" })),
      { sent: 0, failed: 0, unknown: gone.unknown },
    );
  }
  return done;
}

async function replayOne(db: Db, env: Env, row: ReplayRow): Promise<boolean> {
  const provider = (await loadProviders(db, env, row.tenant_id, [row.provider_id], createCache(env))).get(row.provider_id);
  const idempotent = provider?.provider.idempotent;
  let outcomes: Outcome[];
  if (!idempotent) {
    // The provider was deleted or changed kind: the request cannot be replayed under its key.
    outcomes = row.message_ids.map((id) => ({
      id,
      status: "unknown",
      error: "outcome_unknown: the provider of an ambiguous batch can no longer replay it",
    }));
  } else {
    try {
      const results = await idempotent.sendPrepared({ key: row.idempotency_key, body: row.body }, row.message_ids);
      outcomes = results.map((r) => toOutcome(r.id, r));
    } catch (err) {
      if (err instanceof ProviderError && (err.ambiguous || err.transient)) return false;
      const why = err instanceof Error ? err.message : "replay failed";
      outcomes = row.message_ids.map((id) => ({ id, status: "unknown", error: `outcome_unknown: the replay was refused (${why})` }));
    }
  }
  const counts = await recordOutcomes(db, row.tenant_id, row.month, outcomes);
  await deleteReplay(db, row.tenant_id, row.id);
  await settled(db, env, row.tenant_id, row.campaign_id, outcomes, counts);
  return true;
}

/** Tells the campaign's live view, or updates the transactional emails and publishes their events. */
async function settled(
  db: Db,
  env: Env,
  tenantId: string,
  campaignId: string | null,
  outcomes: Outcome[],
  counts: { sent: number; failed: number; unknown: number },
) {
  if (campaignId) {
    if (counts.sent + counts.failed + counts.unknown > 0)
      await progressStub(env, campaignId).report({ sent: counts.sent, failed: counts.failed, skipped: 0, unknown: counts.unknown });
    return;
  }
  await db.execute(sql`
    UPDATE emails e SET status = f.status, last_event = f.status, updated_at = now()
    FROM unnest(${pgArray(outcomes.map((o) => o.id))}::uuid[], ${pgArray(outcomes.map((o) => o.status))}::text[]) AS f(id, status)
    WHERE e.tenant_id = ${tenantId} AND e.id = f.id AND e.status = 'sending'`);
  const now = new Date().toISOString();
  await publishEvents(
    env.EVENTS_QUEUE,
    tenantId,
    outcomes.map((o) => sendOutcomeEvent(o, now)),
  );
}
