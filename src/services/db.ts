import { Pool, neonConfig } from "@neondatabase/serverless";
import { drizzle, type NeonDatabase } from "drizzle-orm/neon-serverless";
import { config, type Settings } from "../config";
import * as schema from "../db/schema";

export type Db = NeonDatabase<typeof schema>;

export interface DbHandle {
  db: Db;
  /** Ends the pool; call it through waitUntil once the request or batch is done. */
  close(): Promise<void>;
}

let configuredProxy: string | undefined;

/**
 * Local mode: NEON_WS_PROXY names the WebSocket-to-TCP proxy in front of a plain PostgreSQL, so the
 * driver speaks to it as it speaks to Neon, minus TLS and the pipelining Neon's proxy allows.
 */
function configureLocalMode(wsProxy: string | undefined) {
  if (!wsProxy || configuredProxy === wsProxy) return;
  neonConfig.wsProxy = (host, port) => `${wsProxy}/v2?address=${host}:${port}`;
  neonConfig.useSecureWebSocket = false;
  neonConfig.pipelineTLS = false;
  neonConfig.pipelineConnect = false;
  configuredProxy = wsProxy;
}

/**
 * A Pool cannot be shared across requests in Workers (its sockets belong to the request that opened
 * them), so every request or queue batch gets its own and ends it when done.
 */
export function openDb(env: Settings): DbHandle {
  const { databaseUrl, neonWsProxy } = config(env);
  configureLocalMode(neonWsProxy);
  const pool = new Pool({ connectionString: databaseUrl, max: 5, connectionTimeoutMillis: 5000 });
  // A dropped idle connection must not become an unhandled error event.
  pool.on("error", () => {});
  return {
    db: drizzle({ client: pool, schema }),
    close: () => pool.end().catch(() => {}),
  };
}
