// What both benchmarks stand on: the worker built as deployed, its own fresh PostgreSQL behind the
// Neon WebSocket proxy with migrations applied, and the bundle served by Miniflare with benchmark
// secrets. Every piece it starts is pushed onto `stops`, for the caller to stop in reverse.
import { mkdirSync } from "node:fs";
import { buildWorker, serveBuiltWorker } from "./built-worker.mjs";
import { runMigrations } from "./migrate.mjs";
import { startPostgres } from "./postgres.mjs";
import { startWsProxy } from "./ws-proxy.mjs";

export const BENCH_ADMIN_SECRET = "bench-admin-secret";

/**
 * `proxyOptions` go to startWsProxy (the chaos benchmark's dropped connections); `triggerHandlers`
 * lets the caller fire the cron through /cdn-cgi/local/scheduled. Both default off. `counting` serves
 * the benchmarks' counting build (bench/instrumented-worker.ts: DO requests and queue messages at
 * GET /__metrics) instead of the production one.
 * @param {{ name: string, pgPort: number, vars?: Record<string, string>, stops: (() => Promise<unknown>)[], log: (m: string) => void, proxyOptions?: { dropRate?: number, seed?: number }, triggerHandlers?: boolean, counting?: boolean }} options
 */
export async function startBenchStack({
  name,
  pgPort,
  vars = {},
  stops,
  log,
  proxyOptions = {},
  triggerHandlers = false,
  counting = false,
}) {
  mkdirSync(".data/bench", { recursive: true });
  log("building the worker");
  const build = buildWorker(`.data/bench/build-${name}`, counting ? "bench/instrumented-worker.ts" : undefined);
  const pg = await startPostgres({ dataDir: `.data/bench/${name}-pg`, port: pgPort, database: `herald_${name}`, fresh: true });
  stops.push(() => pg.stop());
  const proxy = await startWsProxy({ ...proxyOptions, allowedTargets: [`127.0.0.1:${pgPort}`] });
  stops.push(() => proxy.close());
  await runMigrations({ databaseUrl: pg.url, wsProxy: proxy.address });
  const { mf, url } = await serveBuiltWorker({
    script: build.script,
    triggerHandlers,
    vars: {
      DATABASE_URL: pg.url,
      NEON_WS_PROXY: proxy.address,
      JWT_SECRET: "bench-jwt-secret-0123456789abcdef0123456789",
      ADMIN_SECRET: BENCH_ADMIN_SECRET,
      ENCRYPTION_KEY: Buffer.alloc(32, 7).toString("base64"),
      TRACKING_SECRET: "bench",
      // As deployed: every campaign email gets a signed one-click unsubscribe link.
      PUBLIC_URL: "https://herald.bench",
      // The bench sink listens on loopback.
      DEV_ALLOW_LOOPBACK: "1",
      ...vars,
    },
  });
  stops.push(() => mf.dispose());
  return { build, pg, url, mf, proxy };
}
