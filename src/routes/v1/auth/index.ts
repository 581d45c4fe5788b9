import { newRouter } from "../../router";
import { mountRoutes } from "../../define";
import * as token from "./token";

export function authRoutes() {
  return mountRoutes(newRouter(), "auth", token);
}
