import { defineRoute, type Handler, type ResponseBody } from "../../define";
import { emailEvents, findEmail } from "../../../emails/store";
import { IdParam } from "../../../lib/schemas";
import { EmailSchema, toEmailDto } from "./schema";

export const route = defineRoute("get", "/{id}", "emails:read", {
  summary: "One transactional email: its status and events (Resend-compatible)",
  request: { params: IdParam },
  responses: [[200, EmailSchema, "The email"], 404],
});

export const handler: Handler<typeof route> = async (c) => {
  const { tenantId } = c.var.principal;
  const row = await findEmail(c.var.db, tenantId, c.req.valid("param").id);
  const history = await emailEvents(c.var.db, tenantId, row.id);
  return c.json(
    toEmailDto(
      row,
      history.map((e) => ({ type: e.type, occurred_at: e.occurredAt.toISOString(), url: e.url })),
    ),
    200,
  );
};

export type GetEmailResponse = ResponseBody<typeof route>;
