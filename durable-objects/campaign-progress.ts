import { DurableObject } from "cloudflare:workers";
import { StoredValue } from "./stored-value";

export interface ProgressCounts {
  sent: number;
  failed: number;
  skipped: number;
}

export interface ProgressSnapshot extends ProgressCounts {
  campaignId: string | null;
  total: number;
  /** Recipients not yet in a terminal state. */
  queued: number;
  state: "idle" | "sending" | "completed";
  startedAt: number | null;
  updatedAt: number | null;
}

/**
 * One per campaign: live counters fed by the send consumer, one report per batch. Counters live in
 * SQLite storage so they survive eviction.
 */
export class CampaignProgress extends DurableObject<Env> {
  private readonly stored: StoredValue<ProgressSnapshot>;
  private snap: ProgressSnapshot;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.stored = new StoredValue(ctx.storage.sql, "progress");
    this.snap = this.stored.load() ?? { campaignId: null, total: 0, queued: 0, sent: 0, failed: 0, skipped: 0, state: "idle", startedAt: null, updatedAt: null };
  }

  start(campaignId: string, total: number): ProgressSnapshot {
    if (!Number.isInteger(total) || total < 0) throw new RangeError("total must be a non-negative integer");
    const now = Date.now();
    this.snap = { campaignId, total, queued: total, sent: 0, failed: 0, skipped: 0, state: total === 0 ? "completed" : "sending", startedAt: now, updatedAt: now };
    this.persist();
    return this.snapshot();
  }

  report(counts: ProgressCounts): ProgressSnapshot {
    for (const n of [counts.sent, counts.failed, counts.skipped]) {
      if (!Number.isInteger(n) || n < 0) throw new RangeError("counts must be non-negative integers");
    }
    const s = this.snap;
    s.sent += counts.sent;
    s.failed += counts.failed;
    s.skipped += counts.skipped;
    s.queued = Math.max(0, s.total - s.sent - s.failed - s.skipped);
    s.updatedAt = Date.now();
    if (s.state === "sending" && s.queued === 0) s.state = "completed";
    this.persist();
    return this.snapshot();
  }

  snapshot(): ProgressSnapshot {
    return { ...this.snap };
  }

  private persist() {
    this.stored.save(this.snap);
  }
}
