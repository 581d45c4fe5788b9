import { TRACKING_EVENTS_PER_MINUTE } from "../events/tracking-cap";

/**
 * The first line of the tracking cap: each isolate publishes at most TRACKING_EVENTS_PER_MINUTE
 * events per message, type and minute, so a scanner hammering one pixel costs no queue message past
 * that. It is per isolate and forgets under memory pressure, so it only saves work; the cap that
 * holds across isolates is enforced where events are stored (events/tracking-cap.ts).
 */
const MAX_KEYS = 10_000;
const MINUTE_MS = 60_000;
const counts = new Map<string, { minute: number; count: number }>();

/** Whether this hit may publish its event; counts it either way. */
export function admitTrackingEvent(key: string, now = Date.now()): boolean {
  const minute = Math.floor(now / MINUTE_MS);
  const entry = counts.get(key);
  if (entry && entry.minute === minute) {
    if (entry.count >= TRACKING_EVENTS_PER_MINUTE) return false;
    entry.count++;
    return true;
  }
  // Re-inserted so the map's order stays oldest-first and eviction drops the stalest key.
  counts.delete(key);
  if (counts.size >= MAX_KEYS) counts.delete(counts.keys().next().value!);
  counts.set(key, { minute, count: 1 });
  return true;
}
