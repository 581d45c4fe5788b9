import { mountRoutes } from "../../define";
import { newRouter } from "../../router";
import { requireAuth } from "../../../middleware/auth";
import * as del from "./delete";
import * as deliveriesGet from "./deliveries-get";
import * as deliveriesList from "./deliveries-list";
import * as get from "./get";
import * as list from "./list";
import * as patch from "./patch";
import * as post from "./post";
import * as redeliver from "./redeliver";
import * as rotateSecret from "./rotate-secret";

/** Outbound webhook endpoints, their delivery log and redelivery; mounted at /v1/webhooks. */
export function webhooksRoutes() {
  const api = newRouter();
  api.use("*", requireAuth);
  return mountRoutes(api, "webhooks", list, post, rotateSecret, get, patch, del, deliveriesList, deliveriesGet, redeliver);
}
