import { mountRoutes } from "../../define";
import { newRouter } from "../../router";
import * as post from "./post";

export function tenantsRoutes() {
  const api = newRouter();
  return mountRoutes(api, "tenants", post);
}
