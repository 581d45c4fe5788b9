import type { CampaignState } from "../db/schema";

export type CampaignAction = "schedule" | "launch" | "pause" | "resume" | "cancel" | "retry_failed" | "edit" | "delete";

/** Which states each action may start from; everything else is a 409. */
export const ALLOWED_FROM: Record<CampaignAction, readonly CampaignState[]> = {
  schedule: ["draft", "scheduled"],
  launch: ["draft", "scheduled"],
  pause: ["sending"],
  resume: ["paused"],
  cancel: ["draft", "scheduled", "sending", "paused"],
  retry_failed: ["completed", "failed"],
  edit: ["draft", "scheduled"],
  delete: ["draft", "cancelled", "completed", "failed"],
};

export const TARGET_STATE: Partial<Record<CampaignAction, CampaignState>> = {
  schedule: "scheduled",
  launch: "sending",
  pause: "paused",
  resume: "sending",
  cancel: "cancelled",
  retry_failed: "sending",
};

export function canDo(action: CampaignAction, from: CampaignState): boolean {
  return ALLOWED_FROM[action].includes(from);
}
