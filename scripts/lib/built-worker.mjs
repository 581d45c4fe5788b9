// Serves the built worker (the `wrangler deploy --dry-run` bundle) with Miniflare's API directly,
// with the bindings wrangler.jsonc declares. wrangler dev's proxy caps local HTTP near 500 req/s,
// so benchmarks drive the worker this way.
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(import.meta.url);

/**
 * Bundles the worker into `outdir` exactly as a deploy would; with `entry`, that module replaces
 * wrangler.jsonc's main (bench/instrumented-worker.ts, the benchmarks' counting build).
 */
export function buildWorker(outdir, entry) {
  const args = ["node_modules/wrangler/bin/wrangler.js", "deploy", ...(entry ? [entry] : []), "--dry-run", "--outdir", outdir];
  const result = spawnSync(process.execPath, args, {
    encoding: "utf8",
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
  });
  if (result.status !== 0) throw new Error(`build failed:\n${result.stdout}\n${result.stderr}`);
  const size = /Total Upload: ([^\n]+)/.exec(result.stdout)?.[1]?.trim();
  // wrangler names the bundle after its entry module.
  const bundle = entry ? `${path.basename(entry, path.extname(entry))}.js` : "index.js";
  return { script: path.resolve(outdir, bundle), size };
}

/**
 * Starts the bundle in Miniflare with wrangler.jsonc's bindings plus `vars`, and in-memory local
 * KV, Queues and Durable Objects. Returns the Miniflare instance (dispatchFetch, dispose, ready).
 * With `triggerHandlers`, GET /cdn-cgi/local/scheduled?cron=... runs the worker's scheduled handler
 * (Miniflare never fires crons by itself).
 */
export async function serveBuiltWorker({ script, vars, port, triggerHandlers = false }) {
  const { unstable_getMiniflareWorkerOptions } = await import(require.resolve("wrangler"));
  const { Miniflare, convertV4MiniflareOptions } = await import(require.resolve("miniflare"));
  // The bundle is one ES module, so wrangler's module rules have nothing to do.
  const { modulesRules: _rules, ...workerOptions } = unstable_getMiniflareWorkerOptions("wrangler.jsonc").workerOptions;
  const options = convertV4MiniflareOptions({
    ...workerOptions,
    scriptPath: script,
    modules: true,
    bindings: { ...workerOptions.bindings, ...vars },
    host: "127.0.0.1",
    port: port ?? 0,
    ...(triggerHandlers ? { unsafeTriggerHandlers: true } : {}),
  });
  const mf = new Miniflare(options);
  const url = await mf.ready;
  return { mf, url: url.toString().replace(/\/$/, "") };
}
