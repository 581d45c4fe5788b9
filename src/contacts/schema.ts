import { z } from "@hono/zod-openapi";
import { CONTACT_STATUSES, type contacts } from "../db/schema";
import { utf8 } from "../lib/encoding";
import { PageQuery, Timestamp } from "../lib/schemas";

export const MAX_ATTRIBUTE_KEYS = 100;
export const MAX_ATTRIBUTES_BYTES = 16 * 1024;

export const ContactEmail = z
  .string()
  .trim()
  .toLowerCase()
  .max(320)
  .pipe(z.email("not a valid email address"))
  .openapi({ description: "Trimmed and lower-cased; unique within the tenant", example: "ada@example.com" });

export const ContactName = z.string().trim().min(1).max(200);

export const ContactStatus = z.enum(CONTACT_STATUSES);

export const Attributes = z
  .record(z.string().min(1).max(200), z.unknown())
  .refine((o) => Object.keys(o).length <= MAX_ATTRIBUTE_KEYS, `at most ${MAX_ATTRIBUTE_KEYS} keys`)
  .refine((o) => utf8(JSON.stringify(o)).length <= MAX_ATTRIBUTES_BYTES, `at most ${MAX_ATTRIBUTES_BYTES} bytes of JSON`)
  .openapi({ description: "Free-form merge data, available to templates as {{attributes.<key>}}", example: { plan: "pro" } });

export const ContactSchema = z
  .object({
    id: z.string().uuid(),
    email: z.string(),
    name: z.string().nullable(),
    attributes: z.record(z.string(), z.unknown()),
    status: ContactStatus,
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi("Contact");

export const CreateContactBody = z
  .object({
    email: ContactEmail,
    name: ContactName.nullable().optional(),
    attributes: Attributes.optional(),
    status: ContactStatus.default("active"),
  })
  .strict()
  .openapi("CreateContact");

export const UpdateContactBody = z
  .object({
    email: ContactEmail.optional(),
    name: ContactName.nullable().optional(),
    attributes: Attributes.optional().openapi({ description: "Replaces the contact's attributes as a whole" }),
    status: ContactStatus.optional(),
  })
  .strict()
  .refine((b) => Object.keys(b).length > 0, "give at least one field to change")
  .openapi("UpdateContact");

export const ContactListQuery = PageQuery.extend({
  status: ContactStatus.optional().openapi({ param: { name: "status", in: "query" } }),
  email: z
    .string()
    .trim()
    .toLowerCase()
    .max(320)
    .optional()
    .openapi({ param: { name: "email", in: "query" }, description: "Exact address (case-insensitive)" }),
});

export type ContactRow = typeof contacts.$inferSelect;

export function toContactDto(row: ContactRow) {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    attributes: row.attributes,
    status: row.status,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}
