import { defineRoute, type Handler, type ResponseBody } from "../../define";
import { IdParam } from "../../../lib/schemas";
import { findList, memberCount } from "../../../lists/store";
import { ListSchema, toListDto } from "./schema";

export const route = defineRoute("get", "/{id}", "contacts:read", {
  summary: "Get one list with its member count",
  request: { params: IdParam },
  responses: [[200, ListSchema, "The list"], 404],
});

export const handler: Handler<typeof route> = async (c) => {
  const { tenantId } = c.var.principal;
  const row = await findList(c.var.db, tenantId, c.req.valid("param").id);
  return c.json(toListDto(row, await memberCount(c.var.db, tenantId, row.id)), 200);
};

export type GetListResponse = ResponseBody<typeof route>;
