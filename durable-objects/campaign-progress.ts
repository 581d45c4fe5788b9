import { DurableObject } from "cloudflare:workers";
import { persistProgress } from "../src/campaigns/persist-progress";
import type { CampaignState } from "../src/db/schema";
import { StoredValue } from "./stored-value";

export interface ProgressCounts {
  sent: number;
  failed: number;
  skipped: number;
}

export interface ProgressSnapshot extends ProgressCounts {
  campaign_id: string | null;
  tenant_id: string | null;
  state: CampaignState | "idle";
  total: number;
  /** Recipients not yet in a terminal state. */
  queued: number;
  /** Terminal recipients per second over the last few seconds. */
  rate_per_second: number;
  eta_seconds: number | null;
  started_at: string | null;
  updated_at: string | null;
}

interface Stored extends ProgressCounts {
  campaignId: string | null;
  tenantId: string | null;
  state: CampaignState | "idle";
  total: number;
  startedAt: number | null;
  updatedAt: number | null;
  /** Whether Postgres has seen the latest counters. */
  dirty: boolean;
  /** Fan-out has counted the whole audience, so `total` is exact. */
  totalFinal: boolean;
  /** Audience members deleted between the fan-out plan and their page: never sent, never in the log. */
  vanished: number;
  /** Bumped on every change, so a persist knows whether it saw the latest counters. */
  version: number;
}

const TICK_MS = 1000;
const PERSIST_EVERY_MS = 2000;
const RATE_WINDOW_MS = 5000;
const BROADCAST_MIN_GAP_MS = 250;

/**
 * One per campaign: live counters fed by the send consumer (one report per batch), a WebSocket
 * stream of them (hibernatable), and an alarm that pushes an update every second while sending,
 * writes the totals to Postgres, and marks the campaign completed once every recipient is terminal.
 */
export class CampaignProgress extends DurableObject<Env> {
  private readonly stored: StoredValue<Stored>;
  private s: Stored;
  private samples: { at: number; done: number }[] = [];
  private lastBroadcast = 0;
  private lastPersist = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.stored = new StoredValue(ctx.storage.sql, "progress");
    this.s = this.stored.load() ?? {
      campaignId: null,
      tenantId: null,
      state: "idle",
      total: 0,
      sent: 0,
      failed: 0,
      skipped: 0,
      startedAt: null,
      updatedAt: null,
      dirty: false,
      totalFinal: false,
      vanished: 0,
      version: 0,
    };
    this.s.vanished ??= 0;
    this.s.version ??= 0;
  }

  async start(init: { tenantId: string; campaignId: string; total: number }): Promise<ProgressSnapshot> {
    assertCount(init.total);
    const now = Date.now();
    this.s = { ...this.s, campaignId: init.campaignId, tenantId: init.tenantId, total: init.total, sent: 0, failed: 0, skipped: 0, state: "sending", startedAt: now, updatedAt: now, dirty: true, totalFinal: false, vanished: 0 };
    this.samples = [];
    await this.changed(true);
    return this.snapshot();
  }

  /** Fan-out's final word on the audience size, which may differ from the estimate at launch. */
  async setTotal(total: number): Promise<ProgressSnapshot> {
    assertCount(total);
    this.s.total = total;
    this.s.totalFinal = true;
    await this.changed(true);
    return this.snapshot();
  }

  async report(counts: ProgressCounts & { vanished?: number }): Promise<ProgressSnapshot> {
    for (const n of [counts.sent, counts.failed, counts.skipped, counts.vanished ?? 0]) assertCount(n);
    this.s.sent += counts.sent;
    this.s.failed += counts.failed;
    this.s.skipped += counts.skipped;
    this.s.vanished += counts.vanished ?? 0;
    await this.changed(false);
    return this.snapshot();
  }

  /**
   * Replaces the counters with a recount from the message log: the cron's repair for reports that
   * were lost (a call that failed after its rows were committed).
   */
  async setCounts(counts: ProgressCounts): Promise<ProgressSnapshot> {
    for (const n of [counts.sent, counts.failed, counts.skipped]) assertCount(n);
    Object.assign(this.s, { sent: counts.sent, failed: counts.failed, skipped: counts.skipped });
    await this.changed(true);
    return this.snapshot();
  }

  /** retry-failed moved `count` failed recipients back to the queue. */
  async retrying(count: number): Promise<ProgressSnapshot> {
    assertCount(count);
    this.s.failed = Math.max(0, this.s.failed - count);
    this.s.state = "sending";
    await this.changed(true);
    return this.snapshot();
  }

  /** Mirrors a state change made through the API (pause, resume, cancel). */
  async setState(state: CampaignState): Promise<ProgressSnapshot> {
    this.s.state = state;
    await this.changed(true);
    return this.snapshot();
  }

  snapshot(): ProgressSnapshot {
    const s = this.s;
    const done = s.sent + s.failed + s.skipped + s.vanished;
    const queued = Math.max(0, s.total - done);
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
    // Clients may ping; answer with the current snapshot.
    if (message === "ping" || message === "snapshot") ws.send(JSON.stringify(this.snapshot()));
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    try {
      ws.close(code === 1005 ? 1000 : code, "bye");
    } catch {
      // already closed
    }
  }

  override async alarm(): Promise<void> {
    const now = Date.now();
    this.broadcast(now);
    if (this.s.dirty && (now - this.lastPersist >= PERSIST_EVERY_MS || this.isFinished())) {
      await this.persistToPostgres();
    }
    if (this.s.state === "sending" || this.s.dirty) {
      await this.ctx.storage.setAlarm(Date.now() + TICK_MS);
    }
  }

  private isFinished(): boolean {
    const s = this.s;
    return s.state === "sending" && (s.total > 0 || s.totalFinal) && s.sent + s.failed + s.skipped + s.vanished >= s.total;
  }

  private async persistToPostgres() {
    const s = this.s;
    if (!s.campaignId || !s.tenantId) return;
    const finishing = this.isFinished();
    // Reports may land while Postgres is being written; only a persist that saw the latest
    // version may call the counters clean.
    const version = s.version;
    const result = await persistProgress(this.env, {
      tenantId: s.tenantId,
      campaignId: s.campaignId,
      total: s.total,
      sent: s.sent,
      failed: s.failed,
      skipped: s.skipped + s.vanished,
      complete: finishing,
    });
    this.lastPersist = Date.now();
    if (s.version === version) s.dirty = false;
    if (result.state && result.state !== s.state) {
      s.state = result.state;
      s.updatedAt = Date.now();
      this.broadcast(Date.now(), true);
    }
    this.stored.save(s);
  }

  private async changed(force: boolean) {
    const now = Date.now();
    this.s.updatedAt = now;
    this.s.dirty = true;
    this.s.version++;
    this.samples.push({ at: now, done: this.s.sent + this.s.failed + this.s.skipped + this.s.vanished });
    while (this.samples.length > 2 && now - this.samples[0]!.at > RATE_WINDOW_MS) this.samples.shift();
    this.stored.save(this.s);
    this.broadcast(now, force);
    if (this.isFinished()) {
      // Completion should not wait for the next tick.
      await this.ctx.storage.setAlarm(now);
    } else {
      await this.ensureAlarm();
    }
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
