import { newRouter } from "../../router";
import { requireAuth } from "../../../middleware/auth";
import { registerDelete } from "./delete";
import { registerGet } from "./get";
import { registerList } from "./list";
import { registerPatch } from "./patch";
import { registerPost } from "./post";
import { registerPreview } from "./preview";

export function templatesRoutes() {
  const api = newRouter();
  api.use("*", requireAuth);
  registerList(api);
  registerPost(api);
  registerGet(api);
  registerPatch(api);
  registerDelete(api);
  registerPreview(api);
  return api;
}
