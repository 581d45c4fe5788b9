import { openDb } from "../services/db";
import { recountCampaign, writeLiveCountsRow, type SettledCampaign } from "./store/counts";

export type { SettledCampaign } from "./store/counts";

/** Recounts a campaign in Postgres (completing it when every recipient is terminal); for CampaignProgress, which has no request pool. */
export async function settleCampaign(env: Env, tenantId: string, campaignId: string): Promise<SettledCampaign | undefined> {
  const handle = openDb(env);
  try {
    return await recountCampaign(handle.db, tenantId, campaignId);
  } finally {
    await handle.close();
  }
}

export async function writeLiveCounts(env: Env, p: Parameters<typeof writeLiveCountsRow>[1]): Promise<void> {
  const handle = openDb(env);
  try {
    await writeLiveCountsRow(handle.db, p);
  } finally {
    await handle.close();
  }
}
