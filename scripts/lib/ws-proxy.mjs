// A WebSocket-to-TCP proxy speaking the protocol of Neon's WebSocket endpoint, so that
// @neondatabase/serverless reaches a plain PostgreSQL exactly as it reaches Neon:
// the client connects to ws://HOST/v2?address=pghost:pgport and the socket then carries raw
// PostgreSQL wire bytes in binary frames.
import { createRequire } from "node:module";
import net from "node:net";

// Loaded through require so bundler-style resolvers (vitest's global setup) cannot pick ws's browser stub.
const { WebSocketServer } = createRequire(import.meta.url)("ws");

/**
 * @param {{ port?: number, host?: string, allowedTargets?: string[], log?: (msg: string) => void }} [options]
 * @returns {Promise<{ address: string, close: () => Promise<void> }>}
 */
export function startWsProxy({ port = 0, host = "127.0.0.1", allowedTargets, log = () => {} } = {}) {
  const wss = new WebSocketServer({ port, host, perMessageDeflate: false });

  wss.on("connection", (ws, req) => {
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
      if (ws.readyState === ws.OPEN) ws.send(data);
    });
    tcp.on("error", () => ws.close(1011, "upstream error"));
    tcp.on("close", () => ws.close());
    ws.on("message", (data) => {
      const chunk = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
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
