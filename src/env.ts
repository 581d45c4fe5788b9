import type { Scope } from "./auth/scopes";
import type { HeraldError } from "./errors";
import type { Cache } from "./services/cache";
import type { Db } from "./services/db";
import type { Logger } from "./services/logger";

/** Who is calling, resolved once per request by the auth middleware. */
export interface Principal {
  tenantId: string;
  /** api_key: an hk_ key; session: a JWT herald issued for a key; user: a JWT from the tenant's identity provider. */
  kind: "api_key" | "session" | "user";
  /** The key id for api_key and session principals, the user id (JWT sub) for user principals. */
  subject: string;
  scopes: Scope[];
}

export interface Variables {
  requestId: string;
  logger: Logger;
  db: Db;
  cache: Cache;
  /** Work to finish after the response, before the request's database pool is closed. */
  defer: (task: Promise<unknown>) => void;
  principal: Principal;
  /** Set when the JSON body was refused before parsing (see middleware/json-body.ts). */
  bodyRefusal?: HeraldError;
}

export interface HonoEnv {
  Bindings: Env;
  Variables: Variables;
}
