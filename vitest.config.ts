import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// Test-only secrets; real ones come from `wrangler secret put` / .dev.vars.
export const TEST_SECRETS = {
  JWT_SECRET: "test-jwt-secret-0123456789abcdef0123456789abcdef",
  IDP_JWT_SECRET: "test-idp-secret-fedcba9876543210fedcba9876543210",
  ADMIN_SECRET: "test-admin-secret",
  TRACKING_SECRET: "test-tracking-secret",
  ENCRYPTION_KEY: "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
};

export default defineConfig({
  plugins: [
    cloudflareTest(({ inject }) => ({
      wrangler: { configPath: "./wrangler.jsonc" },
      miniflare: {
        bindings: {
          ...TEST_SECRETS,
          DATABASE_URL: inject("databaseUrl"),
          NEON_WS_PROXY: inject("wsProxy"),
          LOG_LEVEL: "warn",
          // The provider stubs, sink and webhook receiver listen on loopback.
          DEV_ALLOW_LOOPBACK: "1",
          PUBLIC_URL: "https://herald.test",
          // Small enough that a campaign of more than one fan-out page (5,000) is admitted page by page.
          CAMPAIGN_IN_FLIGHT_CAP: "2000",
          TEST_JWKS: JSON.stringify(inject("jwks")),
          TEST_PROVIDER_STUBS: JSON.stringify(inject("providerStubs")),
          TEST_SINK_URL: inject("sinkUrl"),
          TEST_WEBHOOK_URL: inject("webhookReceiver").url,
          // Empty when redis-server is missing locally; the Upstash tests then skip.
          TEST_UPSTASH_URL: inject("upstash")?.url ?? "",
          TEST_UPSTASH_TOKEN: inject("upstash")?.token ?? "",
        },
      },
    })),
  ],
  test: {
    globalSetup: ["./test/setup/global.ts"],
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
