import { buildServices, newLogger } from "../services";
import type { Db } from "../services/db";
import { recountCampaign, writeLiveCountsRow, type SettledCampaign } from "./store/counts";

export type { SettledCampaign } from "./store/counts";

/**
 * CampaignProgress has no request to hang a pool on: each of its writes gets the services every
 * entry point gets (src/services), and closes them when done.
 */
async function withDb<T>(env: Env, run: (db: Db) => Promise<T>): Promise<T> {
  const services = buildServices(env, newLogger(env, { component: "campaign_progress" }));
  try {
    return await run(services.db);
  } finally {
    await services.close();
  }
}

/** Recounts a campaign in Postgres, completing it when every recipient is terminal. */
export function settleCampaign(env: Env, tenantId: string, campaignId: string): Promise<SettledCampaign | undefined> {
  return withDb(env, (db) => recountCampaign(db, tenantId, campaignId));
}

export function writeLiveCounts(env: Env, p: Parameters<typeof writeLiveCountsRow>[1]): Promise<void> {
  return withDb(env, (db) => writeLiveCountsRow(db, p));
}
