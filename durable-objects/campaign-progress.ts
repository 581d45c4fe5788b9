import { DurableObject } from "cloudflare:workers";
import { writeLiveCounts, settleCampaign, type SettledCampaign } from "../src/campaigns/settle";
import type { CampaignCounts } from "../src/campaigns/store/counts";
import type { CampaignState } from "../src/campaigns/machine";
import { sendFanouts } from "../src/campaigns/enqueue";
import { inFlightCap } from "../src/config";
import { chaosOf } from "../src/lib/chaos";
import { Admission, type PlannedPage } from "./progress-admission";
import { StoredValue } from "./stored-value";

export type { PlannedPage } from "./progress-admission";

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

interface Stored extends CampaignCounts {
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

const TICK_MS = 1000;
const PERSIST_EVERY_MS = 2000;
/** The least time between two recounts in Postgres, however often the live view says "done". */
const SETTLE_EVERY_MS = 2000;
/** A sending campaign whose counters have not moved for this long is recounted (a report was lost). */
const QUIET_SETTLE_MS = 10_000;
const RATE_WINDOW_MS = 5000;
const BROADCAST_MIN_GAP_MS = 250;

const EMPTY: Stored = {
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

/**
 * One per campaign: a live view of its progress, fed by the senders (one report per chunk) and
 * streamed over a hibernatable WebSocket. Postgres is the truth: the view's counters may run ahead
 * (a report delivered twice) or behind (a report lost), so the campaign is completed only by a
 * recount in Postgres (settleCampaign), which the view then adopts. The alarm also admits the
 * campaign's planned pages to fan-out while its in-flight count is under the cap.
 */
export class CampaignProgress extends DurableObject<Env> {
  private readonly stored: StoredValue<Stored>;
  private readonly admission: Admission;
  private s: Stored;
  private samples: { at: number; done: number }[] = [];
  private lastBroadcast = 0;
  private lastPersist = 0;
  private lastSettle = 0;
  /** An admission is queueing pages: another one now would queue the same pages again. */
  private admitting = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.stored = new StoredValue(ctx.storage.sql, "progress");
    this.admission = new Admission(ctx.storage.sql);
    this.s = { ...EMPTY, ...this.stored.load() };
  }

  async start(init: { tenantId: string; campaignId: string; total: number }): Promise<ProgressSnapshot> {
    assertCount(init.total);
    const now = Date.now();
    this.s = {
      ...EMPTY,
      campaignId: init.campaignId,
      tenantId: init.tenantId,
      total: init.total,
      state: "sending",
      startedAt: now,
      updatedAt: now,
      version: this.s.version,
    };
    this.admission.reset();
    this.samples = [];
    await this.changed(true);
    return this.snapshot();
  }

  /** Fan-out's plan: the exact total and the pages to admit. A plan delivered again changes nothing. */
  async plan(p: { tenantId: string; campaignId: string; total: number; pages: PlannedPage[] }): Promise<ProgressSnapshot> {
    assertCount(p.total);
    if (!this.admission.planned) {
      Object.assign(this.s, { tenantId: p.tenantId, campaignId: p.campaignId, total: p.total, totalFinal: true });
      this.admission.setPlan(p.pages);
      await this.changed(true);
    }
    await this.admit();
    return this.snapshot();
  }

  async report(counts: ProgressCounts & { vanished?: number }): Promise<ProgressSnapshot> {
    const unknown = counts.unknown ?? 0;
    const vanished = counts.vanished ?? 0;
    for (const n of [counts.sent, counts.failed, counts.skipped, unknown, vanished]) assertCount(n);
    this.s.sent += counts.sent;
    this.s.failed += counts.failed;
    this.s.skipped += counts.skipped;
    this.s.unknown += unknown;
    this.s.vanished += vanished;
    await this.changed(false);
    await this.admit();
    return this.snapshot();
  }

  /** Replaces the live counters with a recount from Postgres (the cron's repair). */
  async setCounts(counts: ProgressCounts & { vanished?: number }): Promise<ProgressSnapshot> {
    const unknown = counts.unknown ?? 0;
    const vanished = counts.vanished ?? 0;
    for (const n of [counts.sent, counts.failed, counts.skipped, unknown, vanished]) assertCount(n);
    Object.assign(this.s, { sent: counts.sent, failed: counts.failed, skipped: counts.skipped, unknown, vanished });
    await this.changed(true);
    return this.snapshot();
  }

  /** retry-failed moved failed (and, when asked, unknown) recipients back to the queue. */
  async retrying(count: number | { failed: number; unknown: number }): Promise<ProgressSnapshot> {
    const c = typeof count === "number" ? { failed: count, unknown: 0 } : count;
    assertCount(c.failed);
    assertCount(c.unknown);
    this.s.failed = Math.max(0, this.s.failed - c.failed);
    this.s.unknown = Math.max(0, this.s.unknown - c.unknown);
    this.s.state = "sending";
    await this.changed(true);
    return this.snapshot();
  }

  /** Mirrors a state change made elsewhere (pause, resume, cancel, fail). Resume re-admits every page. */
  async setState(state: CampaignState): Promise<ProgressSnapshot> {
    const resuming = state === "sending" && this.s.state === "paused";
    this.s.state = state;
    await this.changed(true);
    if (resuming) await this.readmit();
    return this.snapshot();
  }

  /**
   * The cron found the campaign stalled with nothing in flight: a fan-out step or a send message was
   * lost. Admits every page again (fan-out queues only whoever has no message row yet), or walks the
   * audience for a campaign planned without pages.
   */
  async kick(): Promise<void> {
    if (this.s.state !== "sending" || !this.s.tenantId || !this.s.campaignId) return;
    if (this.admission.planned) await this.readmit();
    else
      await sendFanouts(this.env, [
        { type: "campaign_fanout", tenant_id: this.s.tenantId, campaign_id: this.s.campaignId, mode: "resume", cursor: null, seen: 0 },
      ]);
  }

  /** Fault injection for the chaos benchmark only: the object restarts, losing what is in memory. */
  async crash(): Promise<void> {
    if (!chaosOf(this.env)) throw new Error("crash() is only for fault injection");
    this.ctx.abort("chaos: CampaignProgress restart");
  }

  snapshot(): ProgressSnapshot {
    const s = this.s;
    const queued = Math.max(0, s.total - this.done());
    const rate = this.rate();
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

  /** The live stream: a hibernatable WebSocket that gets the snapshot now and on every change. */
  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response("expected a WebSocket upgrade", { status: 426 });
    }
    const pair = new WebSocketPair();
    this.ctx.acceptWebSocket(pair[1]);
    pair[1].send(JSON.stringify(this.snapshot()));
    if (this.s.state === "sending") await this.ensureAlarm();
    return new Response(null, { status: 101, webSocket: pair[0] });
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    if (message === "ping" || message === "snapshot") ws.send(JSON.stringify(this.snapshot()));
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    try {
      ws.close(code === 1005 ? 1000 : code, "bye");
    } catch {
      // already closed
    }
  }

  /**
   * Every second while sending: admit pages, recount when the view says done (or has been quiet),
   * write the live counters. Each step is guarded and the next tick is always set: a failed
   * Postgres or queue call must not end the chain that admits the rest of the campaign.
   */
  override async alarm(): Promise<void> {
    const now = Date.now();
    try {
      this.broadcast(now);
      const s = this.s;
      if (s.state === "sending") {
        await this.step("admit", () => this.admit());
        const quiet = now - (s.updatedAt ?? now) >= QUIET_SETTLE_MS;
        if ((this.looksFinished() || quiet) && now - this.lastSettle >= (quiet ? QUIET_SETTLE_MS : SETTLE_EVERY_MS))
          await this.step("settle", () => this.settle());
      }
      if (this.s.state === "sending" && this.s.dirty && now - this.lastPersist >= PERSIST_EVERY_MS)
        await this.step("persist", () => this.persistLive());
      // Cancelled or failed with chunks still in flight: their late reports are recounted, so the
      // campaign's final counts come from Postgres too.
      else if ((s.state === "cancelled" || s.state === "failed") && s.dirty && now - this.lastSettle >= SETTLE_EVERY_MS)
        await this.step("settle", () => this.settle());
    } finally {
      if (this.s.state === "sending" || this.s.dirty) await this.ctx.storage.setAlarm(Date.now() + TICK_MS);
    }
  }

  private async step(name: string, run: () => Promise<void>) {
    try {
      await run();
    } catch (err) {
      this.admitting = false;
      console.error(
        JSON.stringify({
          level: "error",
          msg: "campaign progress step failed; the next tick tries again",
          step: name,
          campaign_id: this.s.campaignId,
          err: err instanceof Error ? err.message : String(err),
        }),
      );
    }
  }

  private done(): number {
    const s = this.s;
    return s.sent + s.failed + s.skipped + s.unknown + s.vanished;
  }

  private looksFinished(): boolean {
    const s = this.s;
    return s.state === "sending" && (s.total > 0 || s.totalFinal) && this.done() >= s.total && this.admission.allAdmitted;
  }

  /** Recounts in Postgres, which completes the campaign if every recipient is terminal there. */
  private async settle() {
    const s = this.s;
    if (!s.campaignId || !s.tenantId) return;
    this.lastSettle = Date.now();
    const version = s.version;
    const settled: SettledCampaign | undefined = await settleCampaign(this.env, s.tenantId, s.campaignId);
    if (!settled) return;
    const c = settled.counts;
    Object.assign(this.s, { sent: c.sent, failed: c.failed, skipped: c.skipped, unknown: c.unknown, vanished: c.vanished, total: c.total });
    if (this.s.version === version) this.s.dirty = false;
    // Only a completion is news here; a pause or cancel that landed while the recount ran stands.
    const moved = settled.state !== this.s.state && (settled.state === "completed" || settled.state === "failed");
    if (moved) this.s.state = settled.state;
    this.s.updatedAt = Date.now();
    this.stored.save(this.s);
    this.broadcast(Date.now(), moved);
  }

  private async persistLive() {
    const s = this.s;
    if (!s.campaignId || !s.tenantId) return;
    const version = s.version;
    await writeLiveCounts(this.env, {
      tenantId: s.tenantId,
      campaignId: s.campaignId,
      total: s.total,
      sent: s.sent,
      failed: s.failed,
      skipped: s.skipped + s.vanished,
      unknown: s.unknown,
    });
    this.lastPersist = Date.now();
    if (this.s.version === version) this.s.dirty = false;
    this.stored.save(this.s);
  }

  /** Queues the next planned pages while the campaign's in-flight recipients are under the cap. */
  private async admit() {
    if (this.admitting || this.s.state !== "sending" || !this.s.tenantId || !this.s.campaignId) return;
    const pages = this.admission.peek(this.done(), inFlightCap(this.env));
    if (pages.length === 0) return;
    this.admitting = true;
    try {
      await this.admission.queue(this.env, this.s.tenantId, this.s.campaignId, pages);
      this.admission.commit(pages);
    } finally {
      this.admitting = false;
    }
  }

  /** After a resume: the pages admitted before the pause again (their handled contacts are skipped), then the rest as usual. */
  private async readmit() {
    if (!this.s.tenantId || !this.s.campaignId) return;
    const pages = this.admission.admittedPages();
    if (pages.length > 0) await this.admission.queue(this.env, this.s.tenantId, this.s.campaignId, pages);
    await this.admit();
  }

  private async changed(force: boolean) {
    const now = Date.now();
    this.s.updatedAt = now;
    this.s.dirty = true;
    this.s.version++;
    this.samples.push({ at: now, done: this.done() });
    while (this.samples.length > 2 && now - this.samples[0]!.at > RATE_WINDOW_MS) this.samples.shift();
    this.stored.save(this.s);
    this.broadcast(now, force);
    // Completion should not wait for the next tick.
    if (this.looksFinished()) await this.ctx.storage.setAlarm(now);
    else await this.ensureAlarm();
  }

  private async ensureAlarm() {
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + TICK_MS);
  }

  private broadcast(now: number, force = false) {
    if (!force && now - this.lastBroadcast < BROADCAST_MIN_GAP_MS) return;
    const sockets = this.ctx.getWebSockets();
    if (sockets.length === 0) return;
    this.lastBroadcast = now;
    const message = JSON.stringify(this.snapshot());
    for (const ws of sockets) {
      try {
        ws.send(message);
      } catch {
        // A socket that went away is cleaned up by the runtime.
      }
    }
  }

  private rate(): number {
    if (this.samples.length < 2) return 0;
    const first = this.samples[0]!;
    const last = this.samples[this.samples.length - 1]!;
    const seconds = (last.at - first.at) / 1000;
    return seconds > 0 ? (last.done - first.done) / seconds : 0;
  }
}

function assertCount(n: number) {
  if (!Number.isInteger(n) || n < 0) throw new RangeError("counts must be non-negative integers");
}
