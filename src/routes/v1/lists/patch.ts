import { defineRoute, type Handler, type RequestBody, type ResponseBody } from "../../define";
import { IdParam } from "../../../lib/schemas";
import { findList, memberCount, updateList } from "../../../lists/store";
import { ListSchema, toListDto, UpdateListBody } from "./schema";

export const route = defineRoute("patch", "/{id}", "contacts:write", {
  summary: "Rename a list or change its description",
  request: { params: IdParam, body: UpdateListBody },
  responses: [[200, ListSchema, "The updated list"], 404, 409],
});

export const handler: Handler<typeof route> = async (c) => {
  const { tenantId } = c.var.principal;
  const existing = await findList(c.var.db, tenantId, c.req.valid("param").id);
  const row = await updateList(c.var.db, tenantId, existing.id, c.req.valid("json"));
  return c.json(toListDto(row, await memberCount(c.var.db, tenantId, row.id)), 200);
};

export type PatchListBody = RequestBody<typeof route>;
export type PatchListResponse = ResponseBody<typeof route>;
