import { newRouter } from "../../../lib/router";
import { requireAuth } from "../../../middleware/auth";

export function campaignsRoutes() {
  const api = newRouter();
  api.use("*", requireAuth);
  return api;
}
