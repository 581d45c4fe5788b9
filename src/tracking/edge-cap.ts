import { TRACKING_EVENTS_PER_MINUTE } from "../events/tracking-cap";
import { TtlCache } from "../lib/ttl-cache";

/**
 * The first line of the tracking cap: each isolate publishes at most TRACKING_EVENTS_PER_MINUTE
 * events per message, type and minute, so a scanner hammering one pixel costs no queue message past
 * that. It is per isolate and forgets under memory pressure, so it only saves work; the cap that
 * holds across isolates is enforced where events are stored (events/tracking-cap.ts).
 */
const MINUTE_MS = 60_000;
/** Each count lives until its minute ends, so a new minute starts from zero. */
const counts = new TtlCache<{ count: number }>(10_000, MINUTE_MS);

/** Whether this hit may publish its event; counts it either way. */
export function admitTrackingEvent(key: string, now = Date.now()): boolean {
  const entry = counts.get(key, now);
  if (entry) {
    if (entry.count >= TRACKING_EVENTS_PER_MINUTE) return false;
    entry.count++;
    return true;
  }
  counts.set(key, { count: 1 }, (Math.floor(now / MINUTE_MS) + 1) * MINUTE_MS);
  return true;
}
