import { defineRoute, type Handler, type RequestBody, type ResponseBody } from "../../define";
import { isUuid } from "../../../lib/ids";
import { IdParam } from "../../../lib/schemas";
import { addMembers, findList } from "../../../lists/store";
import { AddMembersBody, AddMembersResultSchema } from "./schema";

export const route = defineRoute("post", "/{id}/members", "contacts:write", {
  summary: "Add contacts to a list; ids that are not the tenant's contacts are reported, not added",
  request: { params: IdParam, body: AddMembersBody },
  responses: [[200, AddMembersResultSchema, "How many joined, and which ids were refused"], 404],
});

export const handler: Handler<typeof route> = async (c) => {
  const { tenantId } = c.var.principal;
  const list = await findList(c.var.db, tenantId, c.req.valid("param").id);
  const requested = c.req.valid("json").contact_ids;
  const ids = [...new Set(requested.filter(isUuid).map((id) => id.toLowerCase()))];
  const { found, added } = ids.length > 0 ? await addMembers(c.var.db, tenantId, list.id, ids) : { found: new Set<string>(), added: 0 };
  const errors = requested.flatMap((id, i) =>
    isUuid(id) && found.has(id.toLowerCase()) ? [] : [{ field: `body.contact_ids.${i}`, contact_id: id, message: "no such contact" }],
  );
  return c.json({ added, errors }, 200);
};

export type AddListMembersBody = RequestBody<typeof route>;
export type AddListMembersResponse = ResponseBody<typeof route>;
