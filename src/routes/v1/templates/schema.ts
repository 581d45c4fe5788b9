import { z } from "@hono/zod-openapi";
import { utf8 } from "../../../lib/encoding";
import { Timestamp } from "../../../lib/schemas";
import { unknownVariables } from "../../../templates/engine";
import type { TemplateRow, TemplateSummaryRow } from "../../../templates/store";

/** RFC 5322's line limit, so a subject never has to be folded into several header lines. */
export const MAX_SUBJECT_CHARS = 998;
export const MAX_BODY_BYTES = 512 * 1024;

function withinBytes(text: string): boolean {
  // Every UTF-16 unit encodes to at most 3 bytes, so short texts need no encoding to be checked.
  return text.length * 3 <= MAX_BODY_BYTES || utf8(text).length <= MAX_BODY_BYTES;
}

const Name = z.string().trim().min(1).max(200);
const Subject = z
  .string()
  .min(1)
  .max(MAX_SUBJECT_CHARS)
  .refine((s) => !/[\r\n]/.test(s), "must be one line: no CR or LF")
  .openapi({ example: 'Hello {{ name | "there" }}' });
const Body = z.string().min(1).refine(withinBytes, `must be at most ${MAX_BODY_BYTES} bytes`);

export const TemplateSummarySchema = z
  .object({
    id: z.string().uuid(),
    name: z.string(),
    subject: z.string(),
    version: z.number().int(),
    variables: z.array(z.string()),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi("TemplateSummary");

export const TemplateSchema = TemplateSummarySchema.extend({
  html: z.string().nullable(),
  text: z.string().nullable(),
  unknown_variables: z.array(z.string()).openapi({
    description: "Variables no merge data can fill (a typo, or an unknown root); they render empty. A warning: the template is saved.",
  }),
}).openapi("Template");

export const CreateTemplateBody = z
  .object({
    name: Name,
    subject: Subject,
    html: Body.nullable().optional().openapi({ example: '<p>Hi {{ name | "there" }}</p>' }),
    text: Body.nullable().optional(),
  })
  .strict()
  .superRefine((b, ctx) => {
    if (b.html == null && b.text == null) {
      for (const path of ["html", "text"]) ctx.addIssue({ code: "custom", path: [path], message: "a template needs html, text or both" });
    }
  })
  .openapi("CreateTemplate");

export const UpdateTemplateBody = z
  .object({
    name: Name.optional(),
    subject: Subject.optional(),
    html: Body.nullable().optional(),
    text: Body.nullable().optional(),
  })
  .strict()
  .refine((b) => Object.keys(b).length > 0, "give at least one field to change")
  .openapi("UpdateTemplate");

export const PreviewBody = z
  .object({
    contact: z
      .object({
        email: z.string().max(320).optional(),
        name: z.string().max(200).nullable().optional(),
        attributes: z.record(z.string(), z.unknown()).optional(),
      })
      .strict()
      .optional()
      .openapi({ description: "Missing fields get sample values" }),
    campaign: z.record(z.string(), z.unknown()).optional(),
  })
  .strict()
  .openapi("TemplatePreviewRequest");

export const RenderedSchema = z
  .object({ subject: z.string(), html: z.string().nullable(), text: z.string().nullable() })
  .openapi("RenderedTemplate");

export function toTemplateSummaryDto(row: TemplateSummaryRow) {
  return {
    id: row.id,
    name: row.name,
    subject: row.subject,
    version: row.version,
    variables: row.variables,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

export function toTemplateDto(row: TemplateRow) {
  return { ...toTemplateSummaryDto(row), html: row.html, text: row.text, unknown_variables: unknownVariables(row.variables) };
}
