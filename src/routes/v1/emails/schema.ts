import { z } from "@hono/zod-openapi";
import { EMAIL_STATUSES, type emails } from "../../../db/schema";
import { Timestamp } from "../../../lib/schemas";

export const SentEmail = z.object({ id: z.string().uuid() }).openapi("SentEmail");
export const SentBatch = z
  .object({
    data: z.array(SentEmail),
    errors: z.array(z.object({ index: z.number().int(), message: z.string() })).optional(),
  })
  .openapi("SentBatch");

export const EmailEvent = z.object({ type: z.string(), occurred_at: Timestamp, url: z.string().nullable() });

export const EmailSchema = z
  .object({
    object: z.literal("email"),
    id: z.string().uuid(),
    from: z.string(),
    to: z.array(z.string()),
    cc: z.array(z.string()).nullable(),
    bcc: z.array(z.string()).nullable(),
    reply_to: z.array(z.string()).nullable(),
    subject: z.string(),
    html: z.string().nullable(),
    text: z.string().nullable(),
    tags: z.array(z.object({ name: z.string(), value: z.string() })),
    status: z.enum(EMAIL_STATUSES),
    last_event: z.string(),
    scheduled_at: Timestamp.nullable(),
    created_at: Timestamp,
    events: z.array(EmailEvent),
  })
  .openapi("Email");

type Row = typeof emails.$inferSelect;

export function toEmailDto(row: Row, events: z.infer<typeof EmailEvent>[]) {
  const list = (a: string[]) => (a.length > 0 ? a : null);
  return {
    object: "email" as const,
    id: row.id,
    from: row.fromAddress,
    to: row.to,
    cc: list(row.cc),
    bcc: list(row.bcc),
    reply_to: list(row.replyTo),
    subject: row.subject,
    html: row.html,
    text: row.text,
    tags: row.tags,
    status: row.status,
    last_event: row.lastEvent,
    scheduled_at: row.scheduledAt?.toISOString() ?? null,
    created_at: row.createdAt.toISOString(),
    events,
  };
}
