// What every benchmark script shares: a stderr logger, the pieces it started (stopped in reverse,
// each within 10 s, also on Ctrl-C), and an exit code of 1 with the stack when `main` throws.

export const log = (m) => process.stderr.write(`[bench] ${m}\n`);

/** @param {(stops: (() => Promise<unknown>)[]) => Promise<void>} main */
export async function runBench(main) {
  /** @type {(() => Promise<unknown>)[]} */
  const stops = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await Promise.race([stop().catch(() => {}), new Promise((r) => setTimeout(r, 10_000))]);
  };
  process.on("SIGINT", () => stopAll().then(() => process.exit(130)));
  try {
    await main(stops);
  } catch (err) {
    console.error(`[bench] failed: ${err?.stack ?? err}`);
    process.exitCode = 1;
  } finally {
    await stopAll();
  }
}

/** A minimal client of herald's API for benchmarks: a failed call throws with its answer. */
export function apiClient(url) {
  return async (method, path, token, body, type = "application/json") => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { "content-type": type } : {}) },
      body: body === undefined ? undefined : type === "application/json" ? JSON.stringify(body) : body,
    });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${method} ${path} → ${res.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };
}

/**
 * A benchmark's campaign, not launched: a template that renders each contact's name and plan around
 * twenty copies of `paragraph`, a sink provider with no rate limit or quota (its `config`), and the
 * campaign of both to the list.
 * @param {ReturnType<typeof apiClient>} api
 * @param {string} key
 * @param {{ name: string, listId: string, paragraph: string, provider: { name: string, config: Record<string, unknown> } }} o
 */
export async function createBenchCampaign(api, key, o) {
  const template = await api("POST", "/v1/templates", key, {
    name: "bench",
    subject: "Hello {{name}}",
    html: `<html><body><h1>Hello {{name}}</h1><p>Your plan is {{attributes.plan}}.</p>${`<p>${o.paragraph}</p>`.repeat(20)}</body></html>`,
    text: "Hello {{name}}, your plan is {{attributes.plan}}.",
  });
  const provider = await api("POST", "/v1/providers", key, {
    name: o.provider.name,
    kind: "sink",
    config: o.provider.config,
    rate_per_second: 100_000,
    daily_quota: 0,
  });
  return api("POST", "/v1/campaigns", key, {
    name: o.name,
    template_id: template.id,
    list_ids: [o.listId],
    provider_ids: [provider.id],
    from: "Bench <bench@herald.test>",
  });
}
