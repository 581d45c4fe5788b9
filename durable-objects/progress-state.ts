import type { CampaignState } from "../src/campaigns/machine";
import type { CampaignCounts } from "../src/campaigns/store/counts";

// CampaignProgress's state: what it stores, what it reports, the arithmetic on them, and the small
// helpers its alarm uses to report (the live stream, the log).

export interface ProgressCounts {
  sent: number;
  failed: number;
  skipped: number;
  /** Recipients whose batch may or may not have reached the provider. */
  unknown?: number;
}

export interface ProgressSnapshot {
  campaign_id: string | null;
  tenant_id: string | null;
  state: CampaignState | "idle";
  total: number;
  /** Recipients not yet in a terminal state. */
  queued: number;
  sent: number;
  failed: number;
  skipped: number;
  unknown: number;
  /** Terminal recipients per second over the last few seconds. */
  rate_per_second: number;
  eta_seconds: number | null;
  started_at: string | null;
  updated_at: string | null;
}

export interface Stored extends CampaignCounts {
  campaignId: string | null;
  tenantId: string | null;
  state: CampaignState | "idle";
  startedAt: number | null;
  updatedAt: number | null;
  /** Whether Postgres has seen the latest live counters. */
  dirty: boolean;
  /** Fan-out has counted the whole audience, so `total` is exact. */
  totalFinal: boolean;
  /** Bumped on every change, so a persist knows whether it saw the latest counters. */
  version: number;
}

export const TICK_MS = 1000;
export const PERSIST_EVERY_MS = 2000;
/** The least time between two recounts in Postgres, however often the live view says "done". */
export const SETTLE_EVERY_MS = 2000;
/** A sending campaign whose counters have not moved for this long is recounted (a report was lost). */
export const QUIET_SETTLE_MS = 10_000;
export const RATE_WINDOW_MS = 5000;
export const BROADCAST_MIN_GAP_MS = 250;

export const EMPTY: Stored = {
  campaignId: null,
  tenantId: null,
  state: "idle",
  total: 0,
  sent: 0,
  failed: 0,
  skipped: 0,
  unknown: 0,
  vanished: 0,
  startedAt: null,
  updatedAt: null,
  dirty: false,
  totalFinal: false,
  version: 0,
};

/** A counts report, checked: every count a non-negative integer, the optional ones 0 when absent. */
export function checkedCounts(counts: ProgressCounts & { vanished?: number }): Omit<CampaignCounts, "total"> {
  const c = {
    sent: counts.sent,
    failed: counts.failed,
    skipped: counts.skipped,
    unknown: counts.unknown ?? 0,
    vanished: counts.vanished ?? 0,
  };
  for (const n of Object.values(c)) assertCount(n);
  return c;
}

export function assertCount(n: number) {
  if (!Number.isInteger(n) || n < 0) throw new RangeError("counts must be non-negative integers");
}

/** Recipients in a terminal state. */
export function doneOf(s: Stored): number {
  return s.sent + s.failed + s.skipped + s.unknown + s.vanished;
}

/** Terminal recipients per second between the first and the last sample. */
export function rateOf(samples: { at: number; done: number }[]): number {
  if (samples.length < 2) return 0;
  const first = samples[0]!;
  const last = samples[samples.length - 1]!;
  const seconds = (last.at - first.at) / 1000;
  return seconds > 0 ? (last.done - first.done) / seconds : 0;
}

/** What the API and the live stream show of the stored state. */
export function snapshotOf(s: Stored, rate: number): ProgressSnapshot {
  const queued = Math.max(0, s.total - doneOf(s));
  return {
    campaign_id: s.campaignId,
    tenant_id: s.tenantId,
    state: s.state,
    total: s.total,
    queued,
    sent: s.sent,
    failed: s.failed,
    skipped: s.skipped + s.vanished,
    unknown: s.unknown,
    rate_per_second: Math.round(rate * 10) / 10,
    eta_seconds: s.state === "sending" && rate > 0 ? Math.ceil(queued / rate) : null,
    started_at: s.startedAt ? new Date(s.startedAt).toISOString() : null,
    updated_at: s.updatedAt ? new Date(s.updatedAt).toISOString() : null,
  };
}

/** Sends a message to every socket; one that went away is cleaned up by the runtime. */
export function sendToAll(sockets: WebSocket[], message: string) {
  for (const ws of sockets) {
    try {
      ws.send(message);
    } catch {
      // already gone
    }
  }
}

/** An alarm step failed; the next tick tries again. */
export function logStepFailure(step: string, campaignId: string | null, err: unknown) {
  console.error(
    JSON.stringify({
      level: "error",
      msg: "campaign progress step failed; the next tick tries again",
      step,
      campaign_id: campaignId,
      err: err instanceof Error ? err.message : String(err),
    }),
  );
}
