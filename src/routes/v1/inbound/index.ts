import { newRouter } from "../../router";
import { mountRoutes } from "../../define";
import * as post from "./post";

export { toEventInputs } from "./post";

/**
 * Provider webhooks: POST /v1/webhooks/inbound/{provider_id}. No bearer auth (providers cannot send
 * one); each request is checked against the provider's own webhook secret instead.
 */
export function inboundRoutes() {
  return mountRoutes(newRouter(), "webhooks", post);
}
