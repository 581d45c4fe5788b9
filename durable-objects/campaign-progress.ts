import { DurableObject } from "cloudflare:workers";
import { writeLiveCounts, settleCampaign, type SettledCampaign } from "../src/campaigns/settle";
import type { CampaignState } from "../src/campaigns/machine";
import { sendFanouts } from "../src/campaigns/enqueue";
import { inFlightCap } from "../src/config";
import { chaosOf } from "../src/lib/chaos";
import { Admission, type PlannedPage } from "./progress-admission";
import {
  assertCount,
  BROADCAST_MIN_GAP_MS,
  checkedCounts,
  doneOf,
  EMPTY,
  PERSIST_EVERY_MS,
  QUIET_SETTLE_MS,
  RATE_WINDOW_MS,
  rateOf,
  SETTLE_EVERY_MS,
  sendToAll,
  snapshotOf,
  logStepFailure,
  TICK_MS,
  type ProgressCounts,
  type ProgressSnapshot,
  type Stored,
} from "./progress-state";
import { StoredValue } from "./stored-value";

export type { PlannedPage } from "./progress-admission";
export type { ProgressCounts, ProgressSnapshot } from "./progress-state";

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
    const c = checkedCounts(counts);
    this.s.sent += c.sent;
    this.s.failed += c.failed;
    this.s.skipped += c.skipped;
    this.s.unknown += c.unknown;
    this.s.vanished += c.vanished;
    await this.changed(false);
    await this.admit();
    return this.snapshot();
  }

  /** Replaces the live counters with a recount from Postgres (the cron's repair). */
  async setCounts(counts: ProgressCounts & { vanished?: number }): Promise<ProgressSnapshot> {
    Object.assign(this.s, checkedCounts(counts));
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
    return snapshotOf(this.s, rateOf(this.samples));
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
      logStepFailure(name, this.s.campaignId, err);
    }
  }

  private done(): number {
    return doneOf(this.s);
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
    sendToAll(sockets, JSON.stringify(this.snapshot()));
  }
}
