import { mountRoutes } from "../../define";
import { newRouter } from "../../router";
import { requireAuth } from "../../../middleware/auth";
import * as del from "./delete";
import * as get from "./get";
import * as list from "./list";
import * as membersAdd from "./members-add";
import * as membersList from "./members-list";
import * as membersRemove from "./members-remove";
import * as patch from "./patch";
import * as post from "./post";

export function listsRoutes() {
  const api = newRouter();
  api.use("*", requireAuth);
  return mountRoutes(api, "lists", list, post, get, patch, del, membersList, membersAdd, membersRemove);
}
