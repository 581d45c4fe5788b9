import type { JwksInfo } from "./jwks-types";
import type { ProviderStubInfo } from "./provider-stubs";

declare module "vitest" {
  export interface ProvidedContext {
    databaseUrl: string;
    wsProxy: string;
    jwks: JwksInfo;
    providerStubs: ProviderStubInfo;
    sinkUrl: string;
    /** The local Upstash REST endpoint; null when redis-server isn't installed (never in CI). */
    upstash: { url: string; token: string } | null;
  }
}
