import { newRouter } from "../../router";
import { requireAuth } from "../../../middleware/auth";
import { registerDelete } from "./delete";
import { registerGet } from "./get";
import { registerImport } from "./import";
import { registerList } from "./list";
import { registerPatch } from "./patch";
import { registerPost } from "./post";

export function contactsRoutes() {
  const api = newRouter();
  api.use("*", requireAuth);
  for (const register of [registerList, registerPost, registerImport, registerGet, registerPatch, registerDelete]) register(api);
  return api;
}
