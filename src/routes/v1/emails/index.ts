import { newRouter } from "../../../lib/router";
import { requireAuth } from "../../../middleware/auth";
import { registerBatch } from "./batch";
import { registerCancel } from "./cancel";
import { registerGet } from "./get";
import { registerSend } from "./send";

export function emailsRoutes() {
  const api = newRouter();
  api.use("*", requireAuth);
  registerSend(api);
  registerBatch(api);
  registerGet(api);
  registerCancel(api);
  return api;
}
