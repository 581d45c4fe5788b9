#!/usr/bin/env node
// `npm run bench:pipeline [-- --recipients N]`: sends a campaign of N recipients (100,000 by default)
// through the whole pipeline (launch, fan-out queue, send queue, ProviderLimiter and
// CampaignProgress DOs, Postgres claims and results) to the local sink provider, then prints a
// report. Self-contained: it starts its own PostgreSQL, proxy and sink, serves the built worker
// with Miniflare, and stops everything at the end. The last line is one JSON object.
import os from "node:os";
import { parseArgs } from "node:util";
import { BENCH_ADMIN_SECRET, startBenchStack } from "./lib/bench-stack.mjs";
import { startSinkServer } from "./lib/sink-server.mjs";
import { requireNode22 } from "./lib/node-version.mjs";
import { apiClient, createBenchCampaign, log, runBench } from "./lib/bench-run.mjs";

requireNode22();

const { values } = parseArgs({
  options: { recipients: { type: "string", default: "100000" }, timeout: { type: "string", default: "900" } },
});
const N = Number(values.recipients);
if (!Number.isInteger(N) || N < 1) throw new Error("--recipients must be a positive whole number");
await runBench(main);

/** @param {(() => Promise<unknown>)[]} stops */
async function main(stops) {
  const sink = await startSinkServer();
  stops.push(() => sink.close());
  const admin = BENCH_ADMIN_SECRET;
  const { build, pg, url } = await startBenchStack({
    counting: true,
    name: "pipeline",
    pgPort: Number(process.env.HERALD_BENCH_PG_PORT ?? 54359),
    vars: { LOG_LEVEL: process.env.HERALD_BENCH_LOG_LEVEL ?? "warn" },
    stops,
    log,
  });
  const api = apiClient(url);

  log(`seeding ${N.toLocaleString()} contacts`);
  const tenant = await api("POST", "/v1/tenants", admin, { name: "bench" });
  const key = tenant.api_key.key;
  const list = await api("POST", "/v1/lists", key, { name: "audience" });
  for (let i = 0; i < N; i += 10_000) {
    const rows = ["email,name,plan"];
    for (let j = i; j < Math.min(N, i + 10_000); j++) rows.push(`r${j}@bench.herald.test,Reader ${j},${j % 2 ? "pro" : "free"}`);
    const report = await api("POST", `/v1/contacts/import?list_id=${list.id}`, key, rows.join("\n"), "text/csv");
    if (report.errors.length) throw new Error(`import errors: ${JSON.stringify(report.errors.slice(0, 3))}`);
  }
  const campaign = await createBenchCampaign(api, key, {
    name: "bench",
    listId: list.id,
    paragraph: "Lorem ipsum dolor sit amet, consectetur adipiscing elit.",
    provider: { name: "sink", config: { url: sink.url } },
  });

  const client = pg.client();
  await client.connect();
  const pgStats = async () => {
    const r = await client.query(
      "SELECT xact_commit + xact_rollback AS xacts, sessions FROM pg_stat_database WHERE datname = current_database()",
    );
    return { xacts: Number(r.rows[0].xacts), sessions: Number(r.rows[0].sessions) };
  };
  const metrics = () => fetch(`${url}/__metrics`).then((r) => r.json());
  // pg_stat counters are updated when a transaction ends and reported with a small delay.
  await new Promise((r) => setTimeout(r, 1000));
  const before = { pg: await pgStats(), m: await metrics() };

  log("launching");
  const launchedAt = Date.now();
  await api("POST", `/v1/campaigns/${campaign.id}/launch`, key);
  const launchMs = Date.now() - launchedAt;

  const deadline = launchedAt + Number(values.timeout) * 1000;
  let lastCount = -1;
  let lastChange = Date.now();
  for (;;) {
    await new Promise((r) => setTimeout(r, 250));
    const accepted = sink.stats.messages;
    if (accepted !== lastCount) {
      lastCount = accepted;
      lastChange = Date.now();
      process.stderr.write(
        `\n[bench] ${((Date.now() - launchedAt) / 1000).toFixed(1)} s: ${accepted.toLocaleString()} / ${N.toLocaleString()} at the sink`,
      );
    }
    if (sink.byRecipient.size >= N) break;
    if (Date.now() - lastChange > 60_000 || Date.now() > deadline) {
      process.stderr.write("\n");
      log("stalled: no new mail for 60 s");
      break;
    }
  }
  process.stderr.write("\n");
  const lastSendAt = sink.stats.lastAt;
  // Let completion land (the progress alarm persists totals and marks the campaign completed).
  let state = "sending";
  for (let i = 0; i < 40 && state === "sending"; i++) {
    await new Promise((r) => setTimeout(r, 250));
    state = (await client.query("SELECT state FROM campaigns WHERE id = $1", [campaign.id])).rows[0].state;
  }
  await new Promise((r) => setTimeout(r, 1000));
  const after = { pg: await pgStats(), m: await metrics() };
  await client.end();

  let duplicates = 0;
  for (const n of sink.byRecipient.values()) if (n > 1) duplicates += n - 1;
  const lost = N - sink.byRecipient.size;
  const seconds = (lastSendAt - launchedAt) / 1000;
  // Our own bookkeeping above ran 3 statements per sample through its separate client; they are
  // in pg_stat_database too, so take them out.
  const ownStatements = 2 + 1 + 40;
  const statements = after.pg.xacts - before.pg.xacts;
  const sessions = after.pg.sessions - before.pg.sessions;
  const appStatements = Math.max(0, statements - ownStatements);
  // A connection costs about three round trips (startup, SASL first and final).
  const roundTrips = appStatements + 3 * sessions;
  const queueMessages = after.m.queue_messages - before.m.queue_messages;
  const doRequests = after.m.do_requests - before.m.do_requests;
  const result = {
    recipients: N,
    emails_per_min: Math.round((sink.byRecipient.size / seconds) * 60),
    queue_messages_per_email: round(queueMessages / N, 5),
    do_requests_per_email: round(doRequests / N, 5),
    pg_roundtrips_per_email: round(roundTrips / N, 5),
    lost,
    duplicates,
  };
  console.log(`herald pipeline benchmark — ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`);
  console.log(`worker bundle: ${build.size}`);
  console.log(`recipients:              ${N.toLocaleString()}`);
  console.log(`launch answered in:      ${launchMs} ms`);
  console.log(`launch → last send:      ${seconds.toFixed(2)} s`);
  console.log(`emails per minute:       ${result.emails_per_min.toLocaleString()}`);
  console.log(`campaign state:          ${state}`);
  console.log(`queue messages:          ${queueMessages} (${result.queue_messages_per_email} per email)`);
  console.log(`DO requests:             ${doRequests} (${result.do_requests_per_email} per email)`);
  console.log(
    `Postgres statements:     ${appStatements}, connections: ${sessions} (≈ ${roundTrips} round trips, ${result.pg_roundtrips_per_email} per email)`,
  );
  console.log(`sink requests:           ${sink.stats.requests}`);
  console.log(`lost: ${lost}, duplicates: ${duplicates}`);
  console.log(JSON.stringify(result));
}

function round(x, digits) {
  return Math.round(x * 10 ** digits) / 10 ** digits;
}
