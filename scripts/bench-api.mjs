#!/usr/bin/env node
// `npm run bench:api [-- --duration S --rounds N]`: API throughput with autocannon at 50 connections against
// the built worker served by Miniflare's API (wrangler dev's proxy caps near 500 req/s), on its own
// PostgreSQL, proxy and local KV:
//   (a) an empty route, (b) a cached authenticated read with a JWT, (c) the same with an API key,
//   (d) a read that goes to Postgres. Last line: one JSON object.
import { createRequire } from "node:module";
import os from "node:os";
import { parseArgs } from "node:util";
import { BENCH_ADMIN_SECRET, startBenchStack } from "./lib/bench-stack.mjs";
import { requireNode22 } from "./lib/node-version.mjs";

requireNode22();

const autocannon = createRequire(import.meta.url)("autocannon");
const { values } = parseArgs({
  options: {
    duration: { type: "string", default: "10" },
    connections: { type: "string", default: "50" },
    rounds: { type: "string", default: "3" },
  },
});
const DURATION = Number(values.duration);
const CONNECTIONS = Number(values.connections);
const ROUNDS = Number(values.rounds);
const log = (m) => process.stderr.write(`[bench:api] ${m}\n`);
const stops = [];

try {
  await main();
} catch (err) {
  console.error(`[bench:api] failed: ${err?.stack ?? err}`);
  process.exitCode = 1;
} finally {
  for (const stop of stops.reverse()) await stop().catch(() => {});
}

async function main() {
  const admin = BENCH_ADMIN_SECRET;
  const { url } = await startBenchStack({
    name: "api",
    pgPort: Number(process.env.HERALD_BENCH_PG_PORT ?? 54358),
    vars: {
      LOG_LEVEL: "error",
      // Limits high enough that the benchmark measures serving (the limiter still runs on every
      // request), not the limiter saying no.
      RATE_LIMIT_OVERRIDES: JSON.stringify({
        ip: { limit: 10_000_000, windowSeconds: 60 },
        free: { read: { limit: 10_000_000, windowSeconds: 60 }, send: { limit: 10_000_000, windowSeconds: 60 } },
      }),
    },
    stops,
    log,
  });

  const post = async (path, token, body) => {
    const res = await fetch(`${url}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(body ?? {}),
    });
    if (res.status >= 300) throw new Error(`POST ${path} → ${res.status} ${await res.text()}`);
    return res.json();
  };
  const tenant = await post("/v1/tenants", admin, { name: "bench" });
  const key = tenant.api_key.key;
  const tpl = await post("/v1/templates", key, { name: "t", subject: "Hello {{name}}", html: "<p>Hi {{name}}</p>", text: "Hi {{name}}" });
  const { access_token: jwt } = await fetch(`${url}/v1/auth/token`, { method: "POST", headers: { authorization: `Bearer ${key}` } }).then(
    (r) => r.json(),
  );

  const scenarios = [
    ["empty", "/health", undefined],
    ["jwt_cached", `/v1/templates/${tpl.id}`, jwt],
    ["apikey_cached", `/v1/templates/${tpl.id}`, key],
    ["db_read", "/v1/api-keys?limit=5", key],
  ];
  // The two cores here are shared with autocannon, and one 10 s run can land ±15 % from the next;
  // (a)–(c) therefore run in interleaved rounds and each reports its median round.
  const rounds = { empty: [], jwt_cached: [], apikey_cached: [], db_read: [] };
  for (const [name, path, token] of scenarios) {
    const headers = token ? { authorization: `Bearer ${token}` } : {};
    const check = await fetch(`${url}${path}`, { headers });
    if (check.status !== 200) throw new Error(`${name}: ${path} answered ${check.status} ${await check.text()}`);
    // A short warm-up, so caches and connections are in their steady state.
    await run({ url: `${url}${path}`, headers, connections: CONNECTIONS, duration: 2 });
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, path, token] of scenarios) {
      if (name === "db_read" && round > 0) continue;
      const headers = token ? { authorization: `Bearer ${token}` } : {};
      const r = await run({ url: `${url}${path}`, headers, connections: CONNECTIONS, duration: DURATION });
      if (r.non2xx > 0 || r.errors > 0) log(`${name}: ${r.non2xx} non-2xx, ${r.errors} errors`);
      const result = { rps: Math.round(r.requests.average), p50: r.latency.p50, p99: r.latency.p99 };
      rounds[name].push(result);
      log(`round ${round + 1}: ${name.padEnd(14)} ${String(result.rps).padStart(6)} req/s   p50 ${result.p50} ms   p99 ${result.p99} ms`);
    }
  }
  const results = Object.fromEntries(
    Object.entries(rounds).map(([name, rs]) => [name, rs.sort((x, y) => x.rps - y.rps)[Math.floor(rs.length / 2)]]),
  );
  console.log(
    `herald API benchmark — ${os.cpus().length} cores, Node ${process.version}, ${CONNECTIONS} connections, median of ${ROUNDS} rounds of ${DURATION} s (db_read: one round)`,
  );
  for (const [name, path] of scenarios) {
    const r = results[name];
    console.log(`${name.padEnd(14)} ${path.padEnd(48)} ${String(r.rps).padStart(6)} req/s  p50 ${r.p50} ms  p99 ${r.p99} ms`);
  }
  const ratio = (x) => Math.round((x / results.empty.rps) * 100);
  console.log(
    `cached reads vs empty route: JWT ${ratio(results.jwt_cached.rps)} %, API key ${ratio(results.apikey_cached.rps)} % (target ≥ 80 %)`,
  );
  console.log(
    JSON.stringify({
      empty_rps: results.empty.rps,
      jwt_cached_rps: results.jwt_cached.rps,
      apikey_cached_rps: results.apikey_cached.rps,
      db_read_rps: results.db_read.rps,
      jwt_cached_p99_ms: results.jwt_cached.p99,
      apikey_cached_p99_ms: results.apikey_cached.p99,
    }),
  );
}

function run(options) {
  return new Promise((resolve, reject) => autocannon(options, (err, result) => (err ? reject(err) : resolve(result))));
}
