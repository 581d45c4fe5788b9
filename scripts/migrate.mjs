#!/usr/bin/env node
// `npm run db:migrate`: applies migrations/ to DATABASE_URL (a Neon database, or a local PostgreSQL
// through the WebSocket proxy named by NEON_WS_PROXY).
import { runMigrations } from "./lib/migrate.mjs";

const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) {
  console.error("DATABASE_URL is not set");
  process.exit(2);
}
try {
  await runMigrations({ databaseUrl, wsProxy: process.env.NEON_WS_PROXY || undefined });
  console.log("migrations applied");
} catch (err) {
  console.error(`migration failed: ${err?.message ?? err}`);
  process.exit(1);
}
