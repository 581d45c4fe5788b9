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
