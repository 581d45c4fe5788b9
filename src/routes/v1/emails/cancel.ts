import { z } from "@hono/zod-openapi";
import { defineRoute, type Handler, type ResponseBody } from "../../define";
import { cancelScheduledEmail, noSuchEmail } from "../../../emails/store";
import { IdParam, uuidOr404 } from "../../../lib/schemas";

export const route = defineRoute("post", "/{id}/cancel", "emails:send", {
  summary: "Cancel a scheduled email (Resend-compatible)",
  request: { params: IdParam },
  responses: [[200, z.object({ object: z.literal("email"), id: z.string().uuid() }), "Cancelled"], 404, 409],
});

export const handler: Handler<typeof route> = async (c) => {
  const id = uuidOr404(c.req.valid("param").id, noSuchEmail);
  await cancelScheduledEmail(c.var.db, c.var.principal.tenantId, id);
  return c.json({ object: "email" as const, id }, 200);
};

export type CancelEmailResponse = ResponseBody<typeof route>;
