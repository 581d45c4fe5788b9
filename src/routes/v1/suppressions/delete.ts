import { defineRoute, type Handler } from "../../define";
import { noSuchSuppression, unsuppress } from "../../../suppressions/store";
import { EmailParam } from "./schema";

export const route = defineRoute("delete", "/{email}", "suppressions:write", {
  summary: "Mail an address again. Contacts keep their status: change a bounced or unsubscribed contact separately.",
  request: { params: EmailParam },
  responses: [[204, "No longer suppressed"], 404],
});

export const handler: Handler<typeof route> = async (c) => {
  const email = c.req.valid("param").email;
  if (!(await unsuppress(c.var.db, c.var.principal.tenantId, email))) throw noSuchSuppression();
  c.var.logger.info("suppression removed");
  return c.body(null, 204);
};
