/**
 * Per-isolate operation counters, read by the pipeline benchmark through GET /__metrics when
 * HERALD_METRICS=1 (the chaos benchmark too). Counting happens at the few places that call out, so the figures are exact.
 */
export const counters = {
  do_requests: 0,
  queue_messages: 0,
  // Faults injected by src/lib/chaos.ts (HERALD_CHAOS), so the chaos benchmark can tell injected
  // faults from real ones; they stay 0 in production.
  chaos_consumer_crash: 0,
  chaos_duplicate_delivery: 0,
  chaos_do_restart: 0,
  chaos_ambiguous_recipients: 0,
};

export type Counter = keyof typeof counters;

export function count(what: Counter, n = 1): void {
  counters[what] += n;
}

/** Wraps a Durable Object stub so every RPC call on it counts as one DO request. */
export function counted<T extends object>(stub: T): T {
  return new Proxy(stub, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== "function" || prop === "then") return value;
      return (...args: unknown[]) => {
        count("do_requests");
        // Called as a method of the stub itself: RPC stubs do not support Function.prototype.apply.
        return (target as Record<PropertyKey, (...a: unknown[]) => unknown>)[prop]!(...args);
      };
    },
  });
}
