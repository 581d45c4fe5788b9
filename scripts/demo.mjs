#!/usr/bin/env node
// `npm run demo [-- --contacts N] [-- --provider smtp|sink]`: against a running `npm run dev`, imports
// contacts, creates a template and a campaign, launches it, shows a live progress bar fed by the
// campaign's WebSocket stream, and ends with the send rate and where to see the mail.
import { existsSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { requireNode22 } from "./lib/node-version.mjs";

requireNode22();

const { values } = parseArgs({
  options: { contacts: { type: "string", default: "10000" }, provider: { type: "string", default: "smtp" } },
});
const N = Number(values.contacts);
if (!Number.isInteger(N) || N < 1 || N > 1_000_000) fail("--contacts must be a whole number from 1 to 1,000,000");
if (!existsSync(".data/demo.json")) fail("no .data/demo.json: start `npm run dev` first");
const demo = JSON.parse(readFileSync(".data/demo.json", "utf8"));
const providerId = values.provider === "sink" ? demo.sinkProviderId : demo.smtpProviderId;
if (!providerId) fail("the demo tenant has no providers yet: restart `npm run dev`");

function fail(msg) {
  console.error(`demo: ${msg}`);
  process.exit(1);
}

async function api(method, path, body, contentType = "application/json") {
  const res = await fetch(`${demo.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${demo.apiKey}`, ...(body !== undefined ? { "content-type": contentType } : {}) },
    body: body === undefined ? undefined : contentType === "application/json" ? JSON.stringify(body) : body,
  });
  const text = await res.text();
  const parsed = text ? JSON.parse(text) : null;
  if (res.status >= 300) fail(`${method} ${path} → ${res.status} ${parsed?.detail ?? text}`);
  return parsed;
}

const run = Date.now().toString(36);
console.log(`herald demo: ${N.toLocaleString()} contacts through the ${values.provider} provider`);

const list = await api("POST", "/v1/lists", { name: `demo-${run}` });
const IMPORT_CHUNK = 10_000;
for (let i = 0; i < N; i += IMPORT_CHUNK) {
  // CSV, the way most audiences arrive.
  const rows = ["email,name,plan,city"];
  for (let j = i; j < Math.min(N, i + IMPORT_CHUNK); j++) {
    rows.push(
      `reader${j}.${run}@demo.herald.test,Reader ${j},${j % 3 === 0 ? "pro" : "free"},${["Lisbon", "Osaka", "Lagos", "Lima"][j % 4]}`,
    );
  }
  const report = await api("POST", `/v1/contacts/import?list_id=${list.id}`, rows.join("\n"), "text/csv");
  if (report.errors.length > 0) fail(`import reported ${report.errors.length} errors, e.g. ${JSON.stringify(report.errors[0])}`);
  process.stdout.write(`\rimported ${Math.min(N, i + IMPORT_CHUNK).toLocaleString()} contacts`);
}
process.stdout.write("\n");

const template = await api("POST", "/v1/templates", {
  name: `demo-${run}`,
  subject: "{{name}}, your {{campaign.season}} update",
  html: '<h1>Hello {{name | "reader"}}</h1><p>Your plan: <b>{{attributes.plan}}</b>. News from {{attributes.city}}.</p><p>{{campaign.season}} sale: {{campaign.offer}}</p>',
  text: "Hello {{name}}\nYour plan: {{attributes.plan}}. News from {{attributes.city}}.\n{{campaign.season}} sale: {{campaign.offer}}",
});
const campaign = await api("POST", "/v1/campaigns", {
  name: `Demo ${run}`,
  template_id: template.id,
  list_ids: [list.id],
  provider_ids: [providerId],
  from: "Herald Demo <demo@herald.test>",
  reply_to: "support@herald.test",
  data: { season: "Winter", offer: "20% off" },
});

const { access_token } = await api("POST", "/v1/auth/token");
const launchedAt = Date.now();
await api("POST", `/v1/campaigns/${campaign.id}/launch`);
console.log(`launched campaign ${campaign.id}`);

const final = await watch(campaign.id, access_token);
const seconds = (Date.now() - launchedAt) / 1000;
process.stdout.write("\n");
console.log(
  `${final.state}: ${final.sent.toLocaleString()} sent, ${final.failed} failed, ${final.skipped} skipped in ${seconds.toFixed(1)} s`,
);
console.log(`${Math.round(final.sent / seconds).toLocaleString()} emails per second end to end`);
console.log(values.provider === "sink" ? `the sink counted them: ${demo.sinkUrl}stats` : `see the mail at ${demo.mailUi}`);
process.exit(final.state === "completed" ? 0 : 1);

/** Follows the progress stream, drawing a bar, until the campaign stops sending. */
function watch(id, token) {
  return new Promise((resolve, reject) => {
    const url = `${demo.baseUrl.replace(/^http/, "ws")}/v1/campaigns/${id}/progress/stream?access_token=${token}`;
    const ws = new WebSocket(url);
    const timeout = setTimeout(() => reject(new Error("no completion within 15 minutes")), 15 * 60_000);
    ws.onmessage = (event) => {
      const p = JSON.parse(event.data);
      draw(p);
      if (["completed", "failed", "cancelled"].includes(p.state)) {
        clearTimeout(timeout);
        ws.close();
        resolve(p);
      }
    };
    ws.onerror = () => reject(new Error("the progress stream failed"));
  });
}

function draw(p) {
  const done = p.sent + p.failed + p.skipped;
  const ratio = p.total > 0 ? Math.min(1, done / p.total) : 0;
  const width = 40;
  const bar = "█".repeat(Math.round(ratio * width)).padEnd(width, "░");
  const eta = p.eta_seconds != null ? `, ETA ${p.eta_seconds}s` : "";
  process.stdout.write(
    `\r${bar} ${(ratio * 100).toFixed(1).padStart(5)}%  ${done.toLocaleString()}/${p.total.toLocaleString()}  ${Math.round(p.rate_per_second).toLocaleString()}/s${eta}   `,
  );
}
