import { sql } from "drizzle-orm";
import type { Db } from "../../services/db";

export type CheckResult = "ok" | "fail";

const CHECK_TIMEOUT_MS = 3000;

async function timed(run: () => Promise<unknown>): Promise<CheckResult> {
  let timer: number | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("timeout")), CHECK_TIMEOUT_MS);
  });
  try {
    await Promise.race([run(), timeout]);
    return "ok";
  } catch {
    return "fail";
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

/** Each dependency herald cannot serve without, checked concurrently with a short timeout. */
export async function readinessChecks(env: Env, db: Db): Promise<Record<string, CheckResult>> {
  const queuesBound = [env.SEND_QUEUE, env.FANOUT_QUEUE, env.EVENTS_QUEUE, env.TRANSACTIONAL_QUEUE, env.WEBHOOKS_QUEUE].every(
    (q) => typeof q?.send === "function",
  );
  const [postgres, kv, durableObjects] = await Promise.all([
    timed(() => db.execute(sql`select 1`)),
    timed(() => env.CACHE.get("herald:ready-probe")),
    timed(() => env.PROVIDER_LIMITER.get(env.PROVIDER_LIMITER.idFromName("__ready__")).snapshot()),
  ]);
  return { postgres, kv, durable_objects: durableObjects, queues: queuesBound ? "ok" : "fail" };
}
