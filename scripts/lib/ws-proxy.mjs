// A WebSocket-to-TCP proxy speaking the protocol of Neon's WebSocket endpoint, so that
// @neondatabase/serverless reaches a plain PostgreSQL exactly as it reaches Neon:
// the client connects to ws://HOST/v2?address=pghost:pgport and the socket then carries raw
// PostgreSQL wire bytes in binary frames.
// Opt-in fault injection for the chaos benchmark (dropRate > 0, off by default): a chosen share of
// connections is cut mid-statement. At one of its first few statements (a frame carrying a simple
// query 'Q' or an extended-protocol Execute 'E', usually with its Parse and Bind) the frame is
// forwarded to PostgreSQL and, once written,
// both the TCP socket and the WebSocket are destroyed before any answer is relayed: the statement
// may have run (and committed) or not, and the client cannot tell.
import { mulberry32 } from "./prng.mjs";
import { createRequire } from "node:module";
import net from "node:net";

// Loaded through require so bundler-style resolvers (vitest's global setup) cannot pick ws's browser stub.
const { WebSocketServer } = createRequire(import.meta.url)("ws");

/** A dropped connection is cut at one of its first this many statements (chosen at random). */
const DROP_WITHIN_STATEMENTS = 3;

/**
 * @param {{ port?: number, host?: string, allowedTargets?: string[], log?: (msg: string) => void, dropRate?: number, seed?: number }} [options]
 * @returns {Promise<{ address: string, close: () => Promise<void>, stats: { connections: number, dropped: number }, setDropRate: (rate: number, seed?: number) => void }>}
 */
export function startWsProxy({ port = 0, host = "127.0.0.1", allowedTargets, log = () => {}, dropRate = 0, seed = 1 } = {}) {
  const wss = new WebSocketServer({ port, host, perMessageDeflate: false });
  const stats = { connections: 0, dropped: 0 };
  let drop = { rate: dropRate, random: mulberry32(seed) };

  wss.on("connection", (ws, req) => {
    stats.connections++;
    // Decided when the connection opens; 0 = never cut it.
    const dropAt = drop.rate > 0 && drop.random() < drop.rate ? 1 + Math.floor(drop.random() * DROP_WITHIN_STATEMENTS) : 0;
    const scanner = dropAt ? statementScanner() : undefined;
    let statements = 0;
    let cut = false;
    const url = new URL(req.url ?? "/", "http://proxy");
    const address = url.searchParams.get("address") ?? "";
    const [targetHost, targetPort] = splitAddress(address);
    // Only ever proxy to the databases we started; this is a local tool, not an open relay.
    if (!targetHost || (allowedTargets && !allowedTargets.includes(`${targetHost}:${targetPort}`))) {
      log(`ws-proxy: refused target ${JSON.stringify(address)}`);
      ws.close(1008, "target not allowed");
      return;
    }
    const tcp = net.connect({ host: targetHost, port: targetPort });
    tcp.setNoDelay(true);
    const pending = [];
    let open = false;
    tcp.on("connect", () => {
      open = true;
      for (const chunk of pending.splice(0)) tcp.write(chunk);
    });
    tcp.on("data", (data) => {
      if (!cut && ws.readyState === ws.OPEN) ws.send(data);
    });
    tcp.on("error", () => ws.close(1011, "upstream error"));
    tcp.on("close", () => ws.close());
    ws.on("message", (data) => {
      const chunk = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      if (cut) return;
      if (scanner) {
        statements += scanner(chunk);
        if (statements >= dropAt) {
          cut = true;
          stats.dropped++;
          const kill = () => {
            tcp.destroy();
            ws.terminate();
          };
          if (open) tcp.write(chunk, kill);
          else {
            pending.push(chunk);
            tcp.once("connect", () => setImmediate(kill));
          }
          return;
        }
      }
      if (open) tcp.write(chunk);
      else pending.push(chunk);
    });
    ws.on("close", () => tcp.destroy());
    ws.on("error", () => tcp.destroy());
  });

  return new Promise((resolve, reject) => {
    wss.once("error", reject);
    wss.once("listening", () => {
      const { port: bound } = wss.address();
      resolve({
        /** host:port, the value for neonConfig.wsProxy's prefix (NEON_WS_PROXY). */
        address: `${host}:${bound}`,
        /** Connections accepted and connections cut mid-statement (dropRate). */
        stats,
        /** Changes the drop rate for connections opened from now on (0 turns it off). */
        setDropRate: (rate, newSeed) => {
          drop = { rate, random: newSeed === undefined ? drop.random : mulberry32(newSeed) };
        },
        close: () =>
          new Promise((done) => {
            for (const client of wss.clients) client.terminate();
            wss.close(() => done());
          }),
      });
    });
  });
}

function splitAddress(address) {
  const idx = address.lastIndexOf(":");
  if (idx <= 0) return [undefined, undefined];
  const port = Number(address.slice(idx + 1));
  if (!Number.isInteger(port) || port <= 0 || port > 65535) return [undefined, undefined];
  return [address.slice(0, idx), port];
}

/**
 * Follows the client → server PostgreSQL stream across frames and returns, per frame, how many
 * statements run in it: simple queries ('Q') and Executes ('E'); counting Parse and Bind too would
 * count one extended-protocol query three times. The first message (startup, or an SSLRequest
 * followed by the startup) has no type byte.
 */
function statementScanner() {
  let untyped = 1;
  let header = Buffer.alloc(0);
  let skip = 0;
  return (chunk) => {
    let found = 0;
    let i = 0;
    while (i < chunk.length) {
      if (skip > 0) {
        const n = Math.min(skip, chunk.length - i);
        skip -= n;
        i += n;
        continue;
      }
      const size = untyped > 0 ? 4 : 5;
      const take = Math.min(size - header.length, chunk.length - i);
      header = Buffer.concat([header, chunk.subarray(i, i + take)]);
      i += take;
      if (header.length < size) break;
      if (untyped > 0) {
        const length = header.readInt32BE(0);
        // An SSLRequest's body is its code; the startup message follows it, again without a type.
        untyped = length === 8 ? untyped : untyped - 1;
        skip = length - 4;
      } else {
        if (header[0] === 0x51 || header[0] === 0x45) found++; // 'Q', 'E'
        skip = header.readInt32BE(1) - 4;
      }
      header = Buffer.alloc(0);
    }
    return found;
  };
}
