import { sql } from "drizzle-orm";
import type { CampaignState } from "../db/schema";
import { openDb } from "../services/db";

export interface ProgressTotals {
  tenantId: string;
  campaignId: string;
  total: number;
  sent: number;
  failed: number;
  skipped: number;
  /** Every recipient is terminal: a sending campaign becomes completed (failed if nothing was sent). */
  complete: boolean;
}

/** Writes the live counters to the campaign row; called from CampaignProgress's alarm. */
export async function persistProgress(env: Env, p: ProgressTotals): Promise<{ state?: CampaignState }> {
  const handle = openDb(env);
  try {
    const finish = p.complete ? sql`state = 'sending'` : sql`false`;
    const result = await handle.db.execute<{ state: CampaignState }>(sql`
      UPDATE campaigns SET
        total = ${p.total}, sent = ${p.sent}, failed = ${p.failed}, skipped = ${p.skipped}, updated_at = now(),
        state = CASE WHEN ${finish} THEN (CASE WHEN ${p.sent} = 0 AND ${p.failed} > 0 THEN 'failed' ELSE 'completed' END) ELSE state END,
        completed_at = CASE WHEN ${finish} THEN now() ELSE completed_at END
      WHERE tenant_id = ${p.tenantId} AND id = ${p.campaignId}
      RETURNING state`);
    return { state: result.rows[0]?.state };
  } finally {
    await handle.close();
  }
}
