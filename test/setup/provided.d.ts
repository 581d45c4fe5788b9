import type { JwksInfo } from "./jwks-types";

declare module "vitest" {
  export interface ProvidedContext {
    databaseUrl: string;
    wsProxy: string;
    jwks: JwksInfo;
  }
}
