import { sql } from "drizzle-orm";
import { staleClaimSeconds } from "../config";
import type { Db } from "../services/db";
import type { Logger } from "../services/logger";
import { launchCampaign } from "./launch";
import { queueFanout } from "./transitions";
import { countLaunchAttempt, dueCampaigns, failCampaign } from "./store/campaign-rows";
import { recountCampaign, stalledCampaigns } from "./store/counts";
import { sweepStaleClaims as sweepClaimRows } from "../sending/store/message-rows";
import { progressStub } from "../services/durable-objects";

/** Scheduled launches per tenant per tick, and in all: one tenant's backlog cannot starve the others. */
const LAUNCHES_PER_TENANT = 5;
const LAUNCHES_PER_TICK = 100;
/** A scheduled campaign whose launch failed this many ticks in a row fails, with the last reason. */
export const MAX_LAUNCH_ATTEMPTS = 5;

/**
 * Settles claims whose sender stopped before recording (see sweepStaleClaims in message-rows.ts):
 * claims never handed to a provider are queued again through a retry fan-out; those that may
 * have reached one become `unknown`, never re-sent.
 */
export async function sweepStaleClaims(db: Db, env: Env, logger: Logger): Promise<number> {
  const swept = await sweepClaimRows(db, staleClaimSeconds(env));
  let total = 0;
  for (const row of swept) {
    total += row.released + row.unknown;
    // One campaign's failing DO or queue call must not keep the others' recipients waiting.
    try {
      if (row.state === "sending") {
        if (row.unknown > 0) await progressStub(env, row.campaign_id).report({ sent: 0, failed: 0, skipped: 0, unknown: row.unknown });
        if (row.released > 0) await queueFanout(env, row.tenant_id, row.campaign_id, "retry");
      } else {
        // An ended campaign's late rows: its counts come from Postgres again.
        await recountCampaign(db, row.tenant_id, row.campaign_id);
      }
    } catch (err) {
      logger.error("could not settle swept claims of a campaign; the next tick tries again", {
        tenant_id: row.tenant_id,
        campaign_id: row.campaign_id,
        err,
      });
    }
  }
  if (total > 0)
    logger.warn("stale claims settled", {
      released: swept.reduce((n, r) => n + r.released, 0),
      unknown: swept.reduce((n, r) => n + r.unknown, 0),
    });
  return total;
}

/**
 * Launches scheduled campaigns that have come due, a few per tenant per tick. A launch that fails
 * (a deleted template, say) is counted; after MAX_LAUNCH_ATTEMPTS the campaign fails with the
 * reason, so a broken schedule neither retries for ever nor holds up anyone else's.
 */
export async function launchDueCampaigns(db: Db, env: Env, logger: Logger): Promise<number> {
  const due = await dueCampaigns(db, LAUNCHES_PER_TENANT, LAUNCHES_PER_TICK);
  let launched = 0;
  for (const c of due) {
    const log = logger.child({ tenant_id: c.tenant_id, campaign_id: c.id });
    try {
      await launchCampaign(db, env, c.tenant_id, c.id);
      launched++;
      log.info("scheduled campaign launched");
    } catch (err) {
      const reason = err instanceof Error ? err.message : "the launch failed";
      const attempts = await countLaunchAttempt(db, c.tenant_id, c.id, reason).catch(() => 0);
      if (
        attempts >= MAX_LAUNCH_ATTEMPTS &&
        (await failCampaign(db, c.tenant_id, c.id, `the scheduled launch failed ${attempts} times: ${reason}`))
      ) {
        log.error("scheduled campaign failed: it could not be launched", { attempts, reason });
      } else {
        log.warn("scheduled campaign did not launch", { attempts, err });
      }
    }
  }
  return launched;
}

let partitionsCheckedAt = 0;

/** Makes sure next months' message and event partitions exist, at most once an hour per isolate. */
export async function ensurePartitions(db: Db): Promise<void> {
  if (Date.now() - partitionsCheckedAt < 3_600_000) return;
  // Messages partitions keep free room in each page (fillfactor 70) so recording a result is a HOT update.
  await db.execute(
    sql`SELECT herald_ensure_monthly_partitions('messages', 2, 'fillfactor = 70'), herald_ensure_monthly_partitions('events', 2)`,
  );
  partitionsCheckedAt = Date.now();
}

/** A running campaign whose progress has not moved for this long is recounted. */
const STALLED_MINUTES = 2;

/**
 * The live view can fall behind (a report lost with a restart) and then never see its campaign
 * finish. Campaigns that are sending but have not moved for a while are recounted in Postgres,
 * which completes them if every recipient is terminal there, and the live view adopts the count.
 * A recount never double-counts: it replaces, and completion is decided by Postgres alone.
 */
export async function repairStalledProgress(db: Db, env: Env, logger: Logger): Promise<number> {
  const stalled = await stalledCampaigns(db, STALLED_MINUTES, 20);
  for (const row of stalled) {
    try {
      const settled = await recountCampaign(db, row.tenant_id, row.id, true);
      if (!settled) continue;
      const stub = progressStub(env, row.id);
      await stub.setCounts(settled.counts);
      if (settled.state !== "sending") await stub.setState(settled.state);
      // Still sending, nothing claimed, nothing waiting: a fan-out step or a send message was lost.
      // Fan-out skips whoever is handled, so walking the audience again finds only the ones left behind.
      else if (settled.open === 0) await stub.kick();
      logger.warn("stalled campaign recounted", {
        tenant_id: row.tenant_id,
        campaign_id: row.id,
        state: settled.state,
        open: settled.open,
        ...settled.counts,
      });
    } catch (err) {
      logger.error("could not repair a stalled campaign; the next tick tries again", {
        tenant_id: row.tenant_id,
        campaign_id: row.id,
        err,
      });
    }
  }
  return stalled.length;
}
