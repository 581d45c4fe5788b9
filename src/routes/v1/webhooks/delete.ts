import { defineRoute, type Handler } from "../../define";
import { IdParam } from "../../../lib/schemas";
import { deleteEndpoint } from "../../../webhooks/store";

export const route = defineRoute("delete", "/{id}", "webhooks:write", {
  summary: "Delete a webhook endpoint and its delivery log. Deliveries still queued are dropped.",
  request: { params: IdParam },
  responses: [[204, "Deleted"], 404],
});

export const handler: Handler<typeof route> = async (c) => {
  const id = await deleteEndpoint(c.var.db, c.var.principal.tenantId, c.req.valid("param").id);
  c.var.logger.info("webhook endpoint deleted", { endpoint_id: id });
  return c.body(null, 204);
};
