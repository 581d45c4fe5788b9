import { newRouter } from "../../router";
import { requireAuth } from "../../../middleware/auth";
import { registerDelete } from "./delete";
import { registerGet } from "./get";
import { registerList } from "./list";
import { registerPatch } from "./patch";
import { registerPost } from "./post";
import { registerTest } from "./send-test";

export function providersRoutes() {
  const api = newRouter();
  api.use("*", requireAuth);
  for (const register of [registerList, registerPost, registerGet, registerPatch, registerDelete, registerTest]) register(api);
  return api;
}
