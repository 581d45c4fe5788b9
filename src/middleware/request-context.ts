import { createMiddleware } from "hono/factory";
import type { HonoEnv } from "../env";
import { config } from "../config";
import { JsonLogger } from "../services/logger";

const INBOUND_ID = /^[A-Za-z0-9._:-]{8,128}$/;

/**
 * Gives every request an id (a sane inbound X-Request-Id is kept so traces join up), a logger bound
 * to it, the X-Request-Id response header, and one structured access-log line.
 */
export const requestContext = createMiddleware<HonoEnv>(async (c, next) => {
  const inbound = c.req.header("x-request-id");
  const requestId = inbound && INBOUND_ID.test(inbound) ? inbound : crypto.randomUUID();
  const settings = config(c.env);
  const logger = new JsonLogger({ request_id: requestId }, settings.logLevel);
  c.set("config", settings);
  c.set("requestId", requestId);
  c.set("logger", logger);
  const started = Date.now();
  try {
    await next();
  } finally {
    c.header("x-request-id", requestId);
    logger.info("request", {
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      duration_ms: Date.now() - started,
      tenant_id: c.get("principal")?.tenantId,
    });
  }
});
