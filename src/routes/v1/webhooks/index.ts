import { newRouter } from "../../router";
import { requireAuth } from "../../../middleware/auth";
import { registerPost } from "./post";
import { registerDelete } from "./delete";
import { registerDeliveries } from "./deliveries";
import { registerGet } from "./get";
import { registerList } from "./list";
import { registerPatch } from "./patch";
import { registerRedeliver } from "./redeliver";

/** Outbound webhook endpoints, their delivery log and redelivery; mounted at /v1/webhooks. */
export function webhooksRoutes() {
  const api = newRouter();
  api.use("*", requireAuth);
  for (const register of [registerList, registerPost, registerGet, registerPatch, registerDelete, registerDeliveries, registerRedeliver])
    register(api);
  return api;
}
