import { z } from "@hono/zod-openapi";
import type { Db } from "../../../services/db";
import { toCampaignDto } from "../../../campaigns/schema";
import { campaignIdOf, findCampaign } from "../../../campaigns/store/campaign-reads";

/** What the actions whose work continues in the background (launch, resume, retry-failed) answer with 202. */
export const AcceptedSchema = z
  .object({
    id: z.string().uuid(),
    state: z.string(),
    total: z.number().int().optional(),
    retrying: z.number().int().optional(),
    progress_url: z.string(),
  })
  .openapi("CampaignAccepted");

export const ACCEPTED = "Accepted: sending proceeds in the background";

/** Where to watch an accepted action's work. */
export const progressUrl = (id: string) => `/v1/campaigns/${id}/progress`;

/**
 * For the actions that are done when they answer (schedule, pause, cancel): runs `change` on the
 * campaign the path names and gives the campaign as it left it.
 */
export async function changeCampaign(db: Db, tenantId: string, pathId: string, change: (id: string) => Promise<void>) {
  const id = campaignIdOf(pathId);
  await change(id);
  return toCampaignDto(await findCampaign(db, tenantId, id));
}
