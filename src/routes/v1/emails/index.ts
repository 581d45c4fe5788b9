import { newRouter } from "../../router";
import { mountRoutes } from "../../define";
import { requireAuth } from "../../../middleware/auth";
import { decorateProblems } from "../../../middleware/errors";
import * as batch from "./batch";
import * as cancel from "./cancel";
import * as get from "./get";
import { withResendMembers } from "./resend-errors";
import * as send from "./send";

export function emailsRoutes() {
  const api = newRouter();
  // Every error under /v1/emails, an auth failure included, carries the members Resend's SDK reads.
  api.use("*", decorateProblems(withResendMembers));
  api.use("*", requireAuth);
  return mountRoutes(api, "emails", send, batch, get, cancel);
}
