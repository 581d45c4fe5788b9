import { newRouter } from "../../router";
import { mountRoutes } from "../../define";
import { requireAuth } from "../../../middleware/auth";
import * as del from "./delete";
import * as get from "./get";
import * as importContacts from "./import";
import { ImportRow } from "./import-rows";
import * as list from "./list";
import * as patch from "./patch";
import * as post from "./post";

export function contactsRoutes() {
  const api = newRouter();
  api.use("*", requireAuth);
  // The import's JSON body is described as an array of this schema, by reference.
  api.openAPIRegistry.register("ContactImportRow", ImportRow);
  return mountRoutes(api, "contacts", list, post, importContacts, get, patch, del);
}
