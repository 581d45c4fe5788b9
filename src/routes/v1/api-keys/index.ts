import { newRouter } from "../../router";
import { mountRoutes } from "../../define";
import { requireAuth } from "../../../middleware/auth";
import * as del from "./delete";
import * as get from "./get";
import * as list from "./list";
import * as post from "./post";

export function apiKeysRoutes() {
  const api = newRouter();
  api.use("*", requireAuth);
  return mountRoutes(api, "api-keys", list, post, get, del);
}
