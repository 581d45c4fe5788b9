import { newRouter } from "../../router";
import { requireAuth } from "../../../middleware/auth";
import { registerCreate } from "./create";
import { registerDelete } from "./delete";
import { registerGet } from "./get";
import { registerList } from "./list";

export function suppressionsRoutes() {
  const api = newRouter();
  api.use("*", requireAuth);
  registerList(api);
  registerCreate(api);
  registerGet(api);
  registerDelete(api);
  return api;
}
