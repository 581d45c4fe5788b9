import { mountRoutes } from "../../define";
import { newRouter } from "../../router";
import { requireAuth } from "../../../middleware/auth";
import * as del from "./delete";
import * as get from "./get";
import * as list from "./list";
import * as patch from "./patch";
import * as post from "./post";
import * as sendTest from "./send-test";

export function providersRoutes() {
  const api = newRouter();
  api.use("*", requireAuth);
  return mountRoutes(api, "providers", list, post, get, patch, del, sendTest);
}
