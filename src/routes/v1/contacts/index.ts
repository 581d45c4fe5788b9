import { newRouter } from "../../router";
import { requireAuth } from "../../../middleware/auth";
import { registerDelete } from "./delete";
import { registerGet } from "./get";
import { registerImport } from "./import";
import { registerList } from "./list";
import * as patch from "./patch";
import { mountRoutes } from "../../define";
import { registerPost } from "./post";

export function contactsRoutes() {
  const api = newRouter();
  api.use("*", requireAuth);
  for (const register of [registerList, registerPost, registerImport, registerGet, registerDelete]) register(api);
  mountRoutes(api, "contacts", patch);
  return api;
}
