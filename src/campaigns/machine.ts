/**
 * The campaign state machine, as data. Every other file that needs a state, a transition or the
 * set of states an action may start from reads it here; the SQL that moves a campaign
 * (src/campaigns/store/) builds its conditions from these lists.
 */

import { CAMPAIGN_STATES, type CampaignState } from "../db/schema";

export { CAMPAIGN_STATES, type CampaignState };

/** Who makes a transition: a user through the API, the cron tick, or the pipeline itself (fan-out, senders, progress). */
export type Actor = "api" | "cron" | "pipeline";

interface Transition {
  from: readonly CampaignState[];
  /** null: the action changes the campaign but not its state (edit), or removes it (delete). */
  to: CampaignState | null;
  by: readonly Actor[];
}

export const TRANSITIONS = {
  schedule: { from: ["draft", "scheduled"], to: "scheduled", by: ["api"] },
  launch: { from: ["draft", "scheduled"], to: "sending", by: ["api", "cron"] },
  pause: { from: ["sending"], to: "paused", by: ["api"] },
  resume: { from: ["paused"], to: "sending", by: ["api"] },
  // Cancel always wins: it is allowed from every state in which mail may still go out.
  cancel: { from: ["draft", "scheduled", "sending", "paused"], to: "cancelled", by: ["api"] },
  retry_failed: { from: ["completed", "failed"], to: "sending", by: ["api"] },
  // Only a recount in Postgres completes a campaign (see settle.ts); `failed` when nothing was sent.
  complete: { from: ["sending"], to: "completed", by: ["pipeline", "cron"] },
  // A launch that keeps failing, a plan that cannot be made, no usable provider for too long.
  fail: { from: ["scheduled", "sending", "paused"], to: "failed", by: ["pipeline", "cron"] },
  edit: { from: ["draft", "scheduled"], to: null, by: ["api"] },
  delete: { from: ["draft", "cancelled", "completed", "failed"], to: null, by: ["api"] },
} as const satisfies Record<string, Transition>;

export type CampaignAction = keyof typeof TRANSITIONS;

/** The states `action` may start from. */
export function allowedFrom(action: CampaignAction): readonly CampaignState[] {
  return TRANSITIONS[action].from;
}

export function canDo(action: CampaignAction, from: CampaignState): boolean {
  return (TRANSITIONS[action].from as readonly CampaignState[]).includes(from);
}
