import type { OpenAPIHono } from "@hono/zod-openapi";
import type { HonoEnv } from "../../env";
import { mountRoutes } from "../define";
import * as live from "./live";
import * as ready from "./ready";

export function registerHealth(app: OpenAPIHono<HonoEnv>) {
  mountRoutes(app, "operations", live, ready);
}
