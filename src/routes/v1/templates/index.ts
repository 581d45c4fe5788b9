import { mountRoutes } from "../../define";
import { newRouter } from "../../router";
import { requireAuth } from "../../../middleware/auth";
import * as del from "./delete";
import * as get from "./get";
import * as list from "./list";
import * as patch from "./patch";
import * as post from "./post";
import * as preview from "./preview";

export function templatesRoutes() {
  const api = newRouter();
  api.use("*", requireAuth);
  return mountRoutes(api, "templates", list, post, get, patch, del, preview);
}
