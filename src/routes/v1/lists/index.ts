import { newRouter } from "../../router";
import { requireAuth } from "../../../middleware/auth";
import { registerDelete } from "./delete";
import { registerGet } from "./get";
import { registerList } from "./list";
import { registerMembersAdd } from "./members-add";
import { registerMembersList } from "./members-list";
import { registerMembersRemove } from "./members-remove";
import { registerPatch } from "./patch";
import { registerPost } from "./post";

export function listsRoutes() {
  const api = newRouter();
  api.use("*", requireAuth);
  for (const register of [
    registerList,
    registerPost,
    registerGet,
    registerPatch,
    registerDelete,
    registerMembersList,
    registerMembersAdd,
    registerMembersRemove,
  ])
    register(api);
  return api;
}
