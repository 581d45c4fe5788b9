import { newRouter } from "../../router";
import { registerPost } from "./post";

export { inboundSecrets, isInboundKind, toEventInputs } from "./post";

/**
 * Provider webhooks: POST /v1/webhooks/inbound/{provider_id}. No bearer auth (providers cannot send
 * one); each request is checked against the provider's own webhook secret instead.
 */
export function inboundRoutes() {
  const api = newRouter();
  registerPost(api);
  return api;
}
