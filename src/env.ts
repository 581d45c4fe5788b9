import type { Principal } from "./auth/principal";
import type { Config } from "./config";
import type { HeraldError } from "./errors";
import type { Cache } from "./services/cache";
import type { Db } from "./services/db";
import type { Logger } from "./services/logger";

export type { Principal };

export interface Variables {
  requestId: string;
  /** The settings, parsed once per env (src/config.ts); read these, never c.env's raw strings. */
  config: Config;
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
