/**
 * Faults injected by src/lib/chaos.ts (HERALD_CHAOS), counted per isolate so the chaos benchmark can
 * tell injected faults from real ones; they stay 0 in production. The benchmarks' own operation
 * counts (Durable Object requests, queue messages) are kept by bench/instrumented-worker.ts, which
 * also serves all of them at GET /__metrics.
 */
export const counters = {
  chaos_consumer_crash: 0,
  chaos_duplicate_delivery: 0,
  chaos_do_restart: 0,
  chaos_ambiguous_recipients: 0,
};

export type Counter = keyof typeof counters;

export function count(what: Counter, n = 1): void {
  counters[what] += n;
}
