import { newRouter } from "../../router";
import { requireAuth } from "../../../middleware/auth";
import { registerDelete } from "./delete";
import { registerGet } from "./get";
import { registerList } from "./list";
import { registerPost } from "./post";

export function apiKeysRoutes() {
  const api = newRouter();
  api.use("*", requireAuth);
  registerList(api);
  registerPost(api);
  registerGet(api);
  registerDelete(api);
  return api;
}
