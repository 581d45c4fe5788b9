/**
 * Per-isolate operation counters, read by the pipeline benchmark through GET /__metrics when
 * HERALD_METRICS=1. Counting happens at the few places that call out, so the figures are exact.
 */
export const counters = {
  do_requests: 0,
  queue_messages: 0,
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
