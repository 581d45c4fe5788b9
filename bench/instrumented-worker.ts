// The benchmarks' build of herald: the production worker with its pipeline's bindings wrapped so
// every call is counted, and GET /__metrics to read the counts. Counting lives here, outside the
// production code, so a deployed worker carries no proxy on its stubs and no counter in its paths.
// scripts/lib/built-worker.mjs builds this entry instead of src/index.ts for bench:pipeline and bench:chaos.
import * as herald from "../src/index";
import { counters as chaosCounters } from "../src/lib/metrics";

const counters = { do_requests: 0, queue_messages: 0 };

/** Every RPC call on a stub of this namespace counts as one Durable Object request. */
function countedNamespace(ns: DurableObjectNamespace): DurableObjectNamespace {
  return new Proxy(ns, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (prop !== "get" || typeof value !== "function") return typeof value === "function" ? value.bind(target) : value;
      return (...args: Parameters<DurableObjectNamespace["get"]>) => countedStub(target.get(...args));
    },
  });
}

function countedStub<T extends object>(stub: T): T {
  return new Proxy(stub, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== "function" || prop === "then") return value;
      return (...args: unknown[]) => {
        counters.do_requests++;
        // Called as a method of the stub itself: RPC stubs do not support Function.prototype.apply.
        return (target as Record<PropertyKey, (...a: unknown[]) => unknown>)[prop]!(...args);
      };
    },
  });
}

/** Messages put on the pipeline's queues (send and fan-out), one per message. */
function countedQueue(queue: Queue): Queue {
  return {
    send: (body, options) => {
      counters.queue_messages++;
      return queue.send(body, options);
    },
    sendBatch: (messages, options) => {
      const list = [...messages];
      counters.queue_messages += list.length;
      return queue.sendBatch(list, options);
    },
    metrics: () => queue.metrics(),
  } as Queue;
}

const wrapped = new WeakMap<Env, Env>();

/** The same wrapped env for the same env object, so per-env caches (the parsed config) still hit. */
function instrumented(env: Env): Env {
  let out = wrapped.get(env);
  if (!out) {
    out = {
      ...env,
      CAMPAIGN_PROGRESS: countedNamespace(env.CAMPAIGN_PROGRESS),
      PROVIDER_LIMITER: countedNamespace(env.PROVIDER_LIMITER),
      SEND_QUEUE: countedQueue(env.SEND_QUEUE),
      FANOUT_QUEUE: countedQueue(env.FANOUT_QUEUE),
    } as Env;
    wrapped.set(env, out);
  }
  return out;
}

export class CampaignProgress extends herald.CampaignProgress {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, instrumented(env));
  }
}

export class ProviderLimiter extends herald.ProviderLimiter {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, instrumented(env));
  }
}

export class RateLimiter extends herald.RateLimiter {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, instrumented(env));
  }
}

export default {
  fetch(request, env, ctx) {
    if (new URL(request.url).pathname === "/__metrics") return Response.json({ ...counters, ...chaosCounters });
    return herald.default.fetch(request, instrumented(env), ctx);
  },
  queue: (batch, env, ctx) => herald.default.queue(batch, instrumented(env), ctx),
  scheduled: (controller, env, ctx) => herald.default.scheduled(controller, instrumented(env), ctx),
} satisfies ExportedHandler<Env>;
