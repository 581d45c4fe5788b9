import { newRouter } from "../../router";
import { requireAuth } from "../../../middleware/auth";
import { registerActions } from "./actions";
import { registerDelete } from "./delete";
import { registerGet } from "./get";
import { registerList } from "./list";
import { registerMessages } from "./messages-list";
import { registerPatch } from "./patch";
import { registerPost } from "./post";
import { registerProgress } from "./progress";
import { registerStats } from "./stats";

export function campaignsRoutes() {
  const api = newRouter();
  api.use("*", requireAuth);
  for (const register of [
    registerList,
    registerPost,
    registerGet,
    registerPatch,
    registerDelete,
    registerActions,
    registerProgress,
    registerMessages,
    registerStats,
  ])
    register(api);
  return api;
}
