import { newRouter } from "../../router";
import { registerPost } from "./post";

export function tenantsRoutes() {
  const api = newRouter();
  registerPost(api);
  return api;
}
