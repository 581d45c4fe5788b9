import { newRouter } from "../../router";
import { requireAuth } from "../../../middleware/auth";
import { registerPost } from "./post";
import { registerDelete } from "./delete";
import { registerGet } from "./get";
import { registerList } from "./list";

export function suppressionsRoutes() {
  const api = newRouter();
  api.use("*", requireAuth);
  for (const register of [registerList, registerPost, registerGet, registerDelete]) register(api);
  return api;
}
