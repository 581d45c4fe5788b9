// A fault-injecting sink provider for the chaos benchmark: the wire format of sink-server.mjs
// (POST {"messages":[...]} → 200 {"results":[...]}; 429/5xx for the whole batch = nothing
// accepted), with one fault drawn per batch request from a seeded PRNG, so a run's sequence of
// choices is repeatable (which batch meets which choice still depends on arrival order):
//   5xx    answer 500 or 503, accept nothing
//   429    answer 429 with Retry-After, accept nothing
//   reset  accept and count the batch, then destroy the socket without answering
//   slow   accept and count the batch, answer only after `slowMs` (longer than herald's timeout)
// Reset and slow batches reached the provider although herald cannot know it: the benchmark counts
// their recipients as ambiguous.
import { mulberry32 } from "./prng.mjs";
import { listenSink, readBatch } from "./sink-server.mjs";
import http from "node:http";

export const DEFAULT_FAULTS = { "5xx": 0.1, 429: 0.05, reset: 0.01, slow: 0.05 };

/**
 * @param {{ port?: number, host?: string, faults?: Partial<typeof DEFAULT_FAULTS>, seed?: number, slowMs?: number, retryAfterSeconds?: number }} [options]
 */
export function startChaosSink({
  port = 0,
  host = "127.0.0.1",
  faults = DEFAULT_FAULTS,
  seed = 1,
  slowMs = 4000,
  retryAfterSeconds = 2,
} = {}) {
  const rates = { "5xx": 0, 429: 0, reset: 0, slow: 0, ...faults };
  const random = mulberry32(seed);
  /** @type {Map<string, number>} accepted count per recipient address */
  const byRecipient = new Map();
  const stats = { requests: 0, messages: 0, firstAt: 0, lastAt: 0 };
  /** Batches per fault, and recipients in batches herald cannot know the fate of. */
  const injected = { "5xx": 0, 429: 0, reset: 0, slow: 0, ambiguous_recipients: 0 };
  const pendingSlow = new Set();

  const choose = () => {
    const r = random();
    let edge = 0;
    for (const kind of /** @type {const} */ (["5xx", "429", "reset", "slow"])) {
      edge += rates[kind];
      if (r < edge) return kind;
    }
    return "ok";
  };

  const accept = (messages) => {
    const now = Date.now();
    stats.firstAt ||= now;
    stats.lastAt = now;
    return messages.map((m) => {
      if (typeof m?.id !== "string" || !Array.isArray(m?.to) || m.to.length === 0)
        return { id: m?.id ?? null, status: "rejected", error: "malformed message" };
      stats.messages++;
      for (const to of m.to) byRecipient.set(to, (byRecipient.get(to) ?? 0) + 1);
      return { id: m.id, status: "accepted" };
    });
  };

  const server = http.createServer((req, res) => {
    if (req.method !== "POST") {
      res.writeHead(405).end();
      return;
    }
    // herald gives up on a slow answer and closes the connection; writing to it then must not throw.
    res.on("error", () => {});
    req.on("error", () => {});
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      stats.requests++;
      const body = readBatch(chunks, res);
      if (!body) return;
      const fault = choose();
      if (fault === "5xx" || fault === "429") {
        injected[fault]++;
        const status = fault === "429" ? 429 : random() < 0.5 ? 500 : 503;
        res.writeHead(status, {
          "content-type": "application/json",
          ...(status === 429 ? { "retry-after": String(retryAfterSeconds) } : {}),
        });
        res.end(JSON.stringify({ error: `injected ${status}` }));
        return;
      }
      const results = accept(body.messages);
      if (fault === "reset") {
        injected.reset++;
        injected.ambiguous_recipients += body.messages.length;
        req.socket.destroy();
        return;
      }
      const answer = () => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ results }));
      };
      if (fault === "slow") {
        injected.slow++;
        injected.ambiguous_recipients += body.messages.length;
        const timer = setTimeout(() => {
          pendingSlow.delete(timer);
          if (!res.destroyed) answer();
        }, slowMs);
        pendingSlow.add(timer);
        return;
      }
      answer();
    });
  });
  return listenSink(server, { port, host }, { byRecipient, stats, injected }, () => {
    for (const t of pendingSlow) clearTimeout(t);
  });
}
