import { openDb, type Db } from "../services/db";
import { recountCampaign, writeLiveCountsRow, type SettledCampaign } from "./store/counts";

export type { SettledCampaign } from "./store/counts";

/** CampaignProgress has no request pool: each of its writes opens one and closes it. */
async function withDb<T>(env: Env, run: (db: Db) => Promise<T>): Promise<T> {
  const handle = openDb(env);
  try {
    return await run(handle.db);
  } finally {
    await handle.close();
  }
}

/** Recounts a campaign in Postgres, completing it when every recipient is terminal. */
export function settleCampaign(env: Env, tenantId: string, campaignId: string): Promise<SettledCampaign | undefined> {
  return withDb(env, (db) => recountCampaign(db, tenantId, campaignId));
}

export function writeLiveCounts(env: Env, p: Parameters<typeof writeLiveCountsRow>[1]): Promise<void> {
  return withDb(env, (db) => writeLiveCountsRow(db, p));
}
