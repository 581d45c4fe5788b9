// A local sink provider: herald's stand-in for a real email provider in dev, demos and benchmarks.
// Wire format (fixed, so any compatible server can stand in):
//   POST /  {"messages":[{"id","from","to":[...],"subject","html","text","headers":{...}}]}
//   200     {"results":[{"id","status":"accepted"|"rejected","error"?}]}   (same order)
//   429/5xx for the whole batch.
// It counts every accepted id, so a benchmark can tell lost and duplicated mail apart.
// Test modes, chosen by the URL path so parallel tests don't disturb each other:
//   /status/<code>/<tag>              always answer <code> for the whole batch
//   /fail-first/<n>/<code>/<tag>      answer <code> to the first <n> batches for <tag>, then accept
//   /reset-after-accept/<n>/<tag>     accept the first <n> batches for <tag>, then reset the connection
//                                     without answering (the sender cannot know they were accepted)
//   /slow/<n>/<ms>/<tag>              accept the first <n> batches for <tag> but answer only after <ms>
//   a recipient containing "reject"   is rejected (a permanent per-recipient error)
//   GET /received?to=<substring>      how often each matching recipient was accepted
//   a recipient containing "+inspect" has its messages kept, for GET /messages?to=<substring>
import http from "node:http";

/**
 * The batch of a sink request as the wire format says, or undefined after answering 400 for a body
 * that is not one. Shared with the fault-injecting sink (chaos-sink.mjs).
 * @param {Buffer[]} chunks @param {import("node:http").ServerResponse} res
 */
export function readBatch(chunks, res) {
  let body;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    res.writeHead(400).end('{"error":"invalid JSON"}');
    return undefined;
  }
  if (!body || !Array.isArray(body.messages)) {
    res.writeHead(400).end('{"error":"messages must be an array"}');
    return undefined;
  }
  return body;
}

/**
 * @param {{ port?: number, host?: string, reject?: (m: any) => string | undefined }} [options]
 */
export function startSinkServer({ port = 0, host = "127.0.0.1", reject } = {}) {
  /** @type {Map<string, number>} accepted count per message id */
  const accepted = new Map();
  /** @type {Map<string, number>} accepted count per recipient address */
  const byRecipient = new Map();
  const stats = { requests: 0, messages: 0, firstAt: 0, lastAt: 0 };
  /** Failure injection for tests: the next N requests answer with this status. */
  let failNext = { status: 0, count: 0 };

  /** @type {any[]} accepted messages kept for inspection */
  const kept = [];
  /** @type {Map<string, number>} batches seen per fail-first tag */
  const failCounts = new Map();

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://sink");
    if (req.method === "GET" && url.pathname === "/received") {
      const needle = url.searchParams.get("to") ?? "";
      const out = {};
      for (const [to, n] of byRecipient) if (to.includes(needle)) out[to] = n;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(out));
      return;
    }
    if (req.method === "GET" && url.pathname === "/messages") {
      const needle = url.searchParams.get("to") ?? "\u0000";
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(kept.filter((m) => m.to.some((t) => t.includes(needle)))));
      return;
    }
    if (req.method === "GET" && url.pathname === "/stats") {
      let duplicates = 0;
      for (const n of byRecipient.values()) if (n > 1) duplicates += n - 1;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ ...stats, unique_recipients: byRecipient.size, duplicates }));
      return;
    }
    if (req.method !== "POST") {
      res.writeHead(405).end();
      return;
    }
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      stats.requests++;
      const parts = url.pathname.split("/").filter(Boolean);
      let forced = 0;
      if (parts[0] === "status") forced = Number(parts[1]);
      if (parts[0] === "fail-first") {
        const tag = parts.slice(1).join("/");
        const seen = (failCounts.get(tag) ?? 0) + 1;
        failCounts.set(tag, seen);
        if (seen <= Number(parts[1])) forced = Number(parts[2]);
      }
      let fault = "";
      let slowMs = 0;
      if (parts[0] === "reset-after-accept" || parts[0] === "slow") {
        const tag = parts.join("/");
        const seen = (failCounts.get(tag) ?? 0) + 1;
        failCounts.set(tag, seen);
        if (seen <= Number(parts[1])) {
          fault = parts[0];
          slowMs = parts[0] === "slow" ? Number(parts[2]) : 0;
        }
      }
      if (forced >= 400) {
        res.writeHead(forced, { "content-type": "application/json", "retry-after": "1" });
        res.end(JSON.stringify({ error: "injected failure" }));
        return;
      }
      if (failNext.count > 0) {
        failNext.count--;
        res.writeHead(failNext.status, { "content-type": "application/json", "retry-after": "1" });
        res.end(JSON.stringify({ error: "injected failure" }));
        return;
      }
      const body = readBatch(chunks, res);
      if (!body) return;
      const now = Date.now();
      stats.firstAt ||= now;
      stats.lastAt = now;
      const results = body.messages.map((m) => {
        const why =
          typeof m?.id !== "string" || !Array.isArray(m?.to) || m.to.length === 0
            ? "malformed message"
            : m.to.some((t) => String(t).includes("reject"))
              ? "recipient rejected"
              : reject?.(m);
        if (why) return { id: m?.id ?? null, status: "rejected", error: why };
        stats.messages++;
        accepted.set(m.id, (accepted.get(m.id) ?? 0) + 1);
        for (const to of m.to) byRecipient.set(to, (byRecipient.get(to) ?? 0) + 1);
        if (m.to.some((t) => String(t).includes("+inspect")) && kept.length < 10_000) kept.push(m);
        return { id: m.id, status: "accepted" };
      });
      if (fault === "reset-after-accept") {
        req.socket.destroy();
        return;
      }
      const answer = () => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ results }));
      };
      if (slowMs > 0) setTimeout(answer, slowMs).unref();
      else answer();
    });
  });
  return listenSink(
    server,
    { port, host },
    {
      accepted,
      byRecipient,
      stats,
      failNext: (status, count) => {
        failNext = { status, count };
      },
      reset: () => {
        accepted.clear();
        byRecipient.clear();
        Object.assign(stats, { requests: 0, messages: 0, firstAt: 0, lastAt: 0 });
      },
    },
  );
}

/**
 * Starts a sink's server on host:port. Resolves with its URL, `fields`, and close(), which runs
 * `beforeClose` and then drops every connection. Shared with the fault-injecting sink (chaos-sink.mjs).
 * @template {Record<string, unknown>} T
 * @param {http.Server} server @param {{ port: number, host: string }} at @param {T} fields @param {() => void} [beforeClose]
 * @returns {Promise<{ url: string } & T & { close: () => Promise<void> }>}
 */
export function listenSink(server, { port, host }, fields, beforeClose = () => {}) {
  server.keepAliveTimeout = 30_000;
  return new Promise((resolve) => {
    server.listen(port, host, () => {
      const { port: bound } = /** @type {import("node:net").AddressInfo} */ (server.address());
      resolve({
        url: `http://${host}:${bound}/`,
        ...fields,
        close: () =>
          new Promise((done) => {
            beforeClose();
            server.closeAllConnections?.();
            server.close(() => done(undefined));
          }),
      });
    });
  });
}
