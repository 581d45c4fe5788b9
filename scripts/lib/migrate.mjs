// Applies the committed SQL migrations with drizzle's migrator over the Neon driver, the same
// driver the worker uses: directly for Neon, through the local WebSocket proxy otherwise.
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

// Node's own resolution, whoever imports this file (vitest's global setup resolves like a worker).
const require = createRequire(import.meta.url);
const { Pool, neonConfig } = require("@neondatabase/serverless");
const { drizzle } = require("drizzle-orm/neon-serverless");
const { migrate } = require("drizzle-orm/neon-serverless/migrator");
const ws = require("ws");

const MIGRATIONS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../migrations");

export function configureNeonForNode(wsProxy) {
  neonConfig.webSocketConstructor = ws;
  if (wsProxy) {
    neonConfig.wsProxy = (host, port) => `${wsProxy}/v2?address=${host}:${port}`;
    neonConfig.useSecureWebSocket = false;
    neonConfig.pipelineTLS = false;
    neonConfig.pipelineConnect = false;
  }
}

export async function runMigrations({ databaseUrl, wsProxy }) {
  configureNeonForNode(wsProxy);
  const pool = new Pool({ connectionString: databaseUrl });
  try {
    await migrate(drizzle({ client: pool }), { migrationsFolder: MIGRATIONS });
  } finally {
    await pool.end();
  }
}
