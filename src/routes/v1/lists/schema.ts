import { z } from "@hono/zod-openapi";
import type { lists } from "../../../db/schema";
import { Timestamp } from "../../../lib/schemas";

export const MAX_MEMBERS_PER_REQUEST = 1000;

const ListName = z.string().trim().min(1).max(200);
const ListDescription = z.string().trim().max(2000);

export const ListSummarySchema = z
  .object({
    id: z.string().uuid(),
    name: z.string(),
    description: z.string().nullable(),
    created_at: Timestamp,
  })
  .openapi("ListSummary");

export const ListSchema = ListSummarySchema.extend({
  member_count: z.number().int(),
}).openapi("List");

export const CreateListBody = z
  .object({ name: ListName, description: ListDescription.nullable().optional() })
  .strict()
  .openapi("CreateList");

export const UpdateListBody = z
  .object({ name: ListName.optional(), description: ListDescription.nullable().optional() })
  .strict()
  .refine((b) => Object.keys(b).length > 0, "give at least one field to change")
  .openapi("UpdateList");

export const AddMembersBody = z
  .object({ contact_ids: z.array(z.string().max(100)).min(1).max(MAX_MEMBERS_PER_REQUEST) })
  .strict()
  .openapi("AddListMembers");

export const AddMembersResultSchema = z
  .object({
    added: z.number().int().openapi({ description: "Contacts that joined the list; ones already in it are not counted" }),
    errors: z.array(
      z.object({
        field: z.string().openapi({ example: "body.contact_ids.2" }),
        contact_id: z.string(),
        message: z.string(),
      }),
    ),
  })
  .openapi("AddListMembersResult");

export const ListMemberParams = z.object({
  id: z.string().openapi({ param: { name: "id", in: "path" } }),
  contact_id: z.string().openapi({ param: { name: "contact_id", in: "path" } }),
});

type ListRow = typeof lists.$inferSelect;

export function toListSummaryDto(row: ListRow) {
  return { id: row.id, name: row.name, description: row.description, created_at: row.createdAt.toISOString() };
}

export function toListDto(row: ListRow, memberCount: number) {
  return { ...toListSummaryDto(row), member_count: memberCount };
}
