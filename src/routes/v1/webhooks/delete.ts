import { deleteByIdRoute } from "../../define";
import { deleteEndpoint } from "../../../webhooks/store";

export const { route, handler } = deleteByIdRoute(
  "webhooks:write",
  "Delete a webhook endpoint and its delivery log. Deliveries still queued are dropped.",
  async (c, id) => {
    const deleted = await deleteEndpoint(c.var.db, c.var.principal.tenantId, id);
    c.var.logger.info("webhook endpoint deleted", { endpoint_id: deleted });
  },
);
