import { mountRoutes } from "../../define";
import { newRouter } from "../../router";
import { requireAuth } from "../../../middleware/auth";
import * as del from "./delete";
import * as get from "./get";
import * as list from "./list";
import * as post from "./post";

export function suppressionsRoutes() {
  const api = newRouter();
  api.use("*", requireAuth);
  return mountRoutes(api, "suppressions", list, post, get, del);
}
