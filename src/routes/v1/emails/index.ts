import { newRouter } from "../../router";
import { requireAuth } from "../../../middleware/auth";
import { decorateProblems } from "../../../middleware/errors";
import { registerBatch } from "./batch";
import { registerCancel } from "./cancel";
import { registerGet } from "./get";
import { withResendMembers } from "./resend-errors";
import { registerSend } from "./send";

export function emailsRoutes() {
  const api = newRouter();
  // Every error under /v1/emails, an auth failure included, carries the members Resend's SDK reads.
  api.use("*", decorateProblems(withResendMembers));
  api.use("*", requireAuth);
  for (const register of [registerSend, registerBatch, registerGet, registerCancel]) register(api);
  return api;
}
