import { newRouter } from "../../router";
import { registerToken } from "./token";

export function authRoutes() {
  const api = newRouter();
  registerToken(api);
  return api;
}
