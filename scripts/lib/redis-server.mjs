// A throwaway redis-server for tests and local dev: no persistence, loopback only, on a port of
// its own, so it never touches (or collides with) a system Redis.
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";

/** The redis-server binary: PATH first, then Debian's location (PATH may be trimmed under CI runners). */
export function redisServerPath() {
  const dirs = (process.env.PATH ?? "").split(path.delimiter).filter(Boolean);
  for (const file of [...dirs.map((d) => path.join(d, "redis-server")), "/usr/bin/redis-server"]) {
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return file;
    } catch {
      // not here; keep looking
    }
  }
  return null;
}

export function redisAvailable() {
  return redisServerPath() !== null;
}

/** @returns {Promise<number>} */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = /** @type {net.AddressInfo} */ (srv.address());
      srv.close(() => resolve(port));
    });
  });
}

/** One PING over a fresh socket; resolves true on +PONG, false on anything else (not up yet). */
function ping(port) {
  return new Promise((resolve) => {
    const sock = net.connect(port, "127.0.0.1");
    let got = "";
    const done = (ok) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(500, () => done(false));
    sock.on("error", () => done(false));
    sock.on("connect", () => sock.write("*1\r\n$4\r\nPING\r\n"));
    sock.on("data", (d) => {
      got += d.toString("latin1");
      if (got.includes("\r\n")) done(got.startsWith("+PONG"));
    });
  });
}

/**
 * @param {{ port?: number, timeoutMs?: number }} [options]
 * @returns {Promise<{ port: number, url: string, stop: () => Promise<void> }>}
 */
export async function startRedis({ port, timeoutMs = 10_000 } = {}) {
  const bin = redisServerPath();
  if (!bin) throw new Error("redis-server not found on PATH or at /usr/bin/redis-server");
  // A port picked by freePort() can be taken before redis binds it; only then is a retry worth it.
  for (let attempt = 1; ; attempt++) {
    const p = port ?? (await freePort());
    try {
      return await launch(bin, p, timeoutMs);
    } catch (err) {
      if (port !== undefined || attempt >= 3 || !/in use/i.test(String(err))) throw err;
    }
  }
}

async function launch(bin, port, timeoutMs) {
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
  const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
  // Keep the tail of redis's own log: it says why a start failed (port in use, bad config…).
  let log = "";
  const keep = (d) => {
    log = (log + d.toString()).slice(-4000);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  /** @type {Promise<number | null>} */
  const exited = new Promise((resolve) => child.on("exit", (code) => resolve(code)));
  let gone = false;
  void exited.then(() => (gone = true));
  // A spawn failure (EACCES…) may come without an "exit" event.
  child.on("error", (err) => {
    keep(String(err));
    gone = true;
  });

  const deadline = Date.now() + timeoutMs;
  while (!(await ping(port))) {
    if (gone) throw new Error(`redis-server exited during startup on port ${port}:\n${log}`);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`redis-server did not answer PING on port ${port} within ${timeoutMs} ms:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }

  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    stop: async () => {
      if (gone) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
