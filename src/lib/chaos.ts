/**
 * Fault injection for the chaos benchmark (`npm run bench:chaos`) and tests: never set in
 * production. HERALD_CHAOS holds JSON, every field optional:
 *   {"crash":0.01,"duplicate":0.02,"do_restart_every":100000,"seed":42}
 * crash: share of send-consumer invocations that throw ChaosCrash at one point of their work;
 * duplicate: share of queue messages delivered a second time; do_restart_every: recipients settled
 * between two CampaignProgress restarts; seed: makes the choices repeatable (Math.random without).
 * Every injected fault is counted in src/lib/metrics.ts, so the benchmark can read what it caused.
 */
import { config, type Settings } from "../config";
import { count } from "./metrics";

export type CrashPoint = "after_claim" | "after_send" | "while_recording";
export const CRASH_POINTS: readonly CrashPoint[] = ["after_claim", "after_send", "while_recording"];

/** Thrown by an invocation's at(); a distinct class so logs and tests can tell it from a real bug. */
export class ChaosCrash extends Error {
  constructor(readonly point: CrashPoint) {
    super(`chaos: injected crash ${point}`);
    this.name = "ChaosCrash";
  }
}

export interface ChaosSettings {
  crash: number;
  duplicate: number;
  doRestartEvery: number;
  seed?: number;
}

export interface Invocation {
  /** Throws ChaosCrash when `point` is where this invocation was chosen to crash (at most once). */
  at(point: CrashPoint): void;
}

export interface Chaos {
  readonly settings: ChaosSettings;
  /** Per send-consumer invocation: decides once (probability `crash`) whether and where it will crash. */
  invocation(): Invocation;
  /** Which messages of a batch to deliver a second time (probability `duplicate` each). */
  duplicates<T>(messages: readonly T[]): T[];
  /**
   * Call with the number of recipients just settled (a delta, not a running total: an isolate that
   * restarts then only delays the next restart instead of firing one at once). True when the running
   * sum crossed the next multiple of do_restart_every: the caller restarts CampaignProgress.
   */
  restartDue(recipients: number): boolean;
  /** Recipients whose batch met a herald-side fault after its request could have reached the provider. */
  ambiguous(recipients: number): void;
}

const NO_CRASH: Invocation = { at() {} };

/** mulberry32: tiny, fast and good enough to pick faults; not for anything secret. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Parses HERALD_CHAOS; throws on anything malformed, so a mistyped setting is noticed, not ignored. */
export function parseChaos(raw: string): ChaosSettings {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    throw new Error("HERALD_CHAOS is not valid JSON");
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Error("HERALD_CHAOS must be a JSON object");
  const o = v as Record<string, unknown>;
  const known = new Set(["crash", "duplicate", "do_restart_every", "seed"]);
  for (const k of Object.keys(o)) if (!known.has(k)) throw new Error(`HERALD_CHAOS: unknown field ${k}`);
  const share = (k: string) => {
    const x = o[k] ?? 0;
    if (typeof x !== "number" || !(x >= 0 && x <= 1)) throw new Error(`HERALD_CHAOS.${k} must be a number from 0 to 1`);
    return x;
  };
  const every = o.do_restart_every ?? 0;
  if (typeof every !== "number" || !Number.isInteger(every) || every < 0)
    throw new Error("HERALD_CHAOS.do_restart_every must be a whole number ≥ 0");
  const seed = o.seed;
  if (seed !== undefined && (typeof seed !== "number" || !Number.isInteger(seed))) throw new Error("HERALD_CHAOS.seed must be an integer");
  return { crash: share("crash"), duplicate: share("duplicate"), doRestartEvery: every, seed };
}

export function createChaos(
  settings: ChaosSettings,
  random: () => number = settings.seed === undefined ? Math.random : mulberry32(settings.seed),
): Chaos {
  let settled = 0;
  let nextRestart = settings.doRestartEvery;
  return {
    settings,
    invocation() {
      if (settings.crash <= 0 || random() >= settings.crash) return NO_CRASH;
      const chosen = CRASH_POINTS[Math.floor(random() * CRASH_POINTS.length)]!;
      let fired = false;
      return {
        at(point) {
          if (fired || point !== chosen) return;
          fired = true;
          // Counted when thrown, not when chosen: an invocation may end before reaching its point.
          count("chaos_consumer_crash");
          throw new ChaosCrash(point);
        },
      };
    },
    duplicates(messages) {
      if (settings.duplicate <= 0) return [];
      const twice = messages.filter(() => random() < settings.duplicate);
      if (twice.length > 0) count("chaos_duplicate_delivery", twice.length);
      return twice;
    },
    restartDue(recipients) {
      if (settings.doRestartEvery <= 0 || recipients <= 0) return false;
      settled += recipients;
      if (settled < nextRestart) return false;
      // One restart even if a large report crossed several multiples: restarts are not queued up.
      while (nextRestart <= settled) nextRestart += settings.doRestartEvery;
      count("chaos_do_restart");
      return true;
    },
    ambiguous(recipients) {
      if (recipients > 0) count("chaos_ambiguous_recipients", recipients);
    },
  };
}

// Parsed once per isolate; keyed by the raw string so a test that changes the setting gets a new one.
let cached: { raw: string; chaos: Chaos } | undefined;

/** Parsed once per isolate from HERALD_CHAOS (config(env).chaos); undefined when empty (production). */
export function chaosOf(env: Settings): Chaos | undefined {
  const raw = config(env).chaos?.trim();
  if (!raw) return undefined;
  if (cached?.raw !== raw) cached = { raw, chaos: createChaos(parseChaos(raw)) };
  return cached.chaos;
}
