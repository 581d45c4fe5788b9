import { defineRoute, type Handler, type RequestBody, type ResponseBody } from "../../define";
import { createList } from "../../../lists/store";
import { CreateListBody, ListSchema, toListDto } from "./schema";

export const route = defineRoute("post", "/", "contacts:write", {
  summary: "Create a list; names are unique within the tenant",
  request: { body: CreateListBody },
  responses: [[201, ListSchema, "The new list"], 409],
});

export const handler: Handler<typeof route> = async (c) => {
  const body = c.req.valid("json");
  const row = await createList(c.var.db, c.var.principal.tenantId, { name: body.name, description: body.description ?? null });
  return c.json(toListDto(row, 0), 201);
};

export type PostListBody = RequestBody<typeof route>;
export type PostListResponse = ResponseBody<typeof route>;
