import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { and, asc, eq, gt } from "drizzle-orm";
import { messages } from "../../../db/messages-table";
import { MESSAGE_STATUSES } from "../../../db/schema";
import type { HonoEnv } from "../../../env";
import { idPage } from "../../../lib/keyset";
import { IdParam, PageQuery, pageOf, problems, Timestamp } from "../../../lib/schemas";
import { requireScope } from "../../../middleware/auth";
import { findCampaign } from "./store";

const MessageSchema = z
  .object({
    id: z.string().uuid(),
    contact_id: z.string().uuid().nullable(),
    email: z.string(),
    status: z.enum(MESSAGE_STATUSES),
    provider_id: z.string().uuid().nullable(),
    provider_message_id: z.string().nullable(),
    error: z.string().nullable(),
    attempts: z.number().int(),
    created_at: Timestamp,
    sent_at: Timestamp.nullable(),
  })
  .openapi("Message");

const route = createRoute({
  method: "get",
  path: "/{id}/messages",
  tags: ["campaigns"],
  security: [{ bearerAuth: [] }],
  summary: "The campaign's message log: one row per recipient, oldest first",
  middleware: [requireScope("campaigns:read")] as const,
  request: {
    params: IdParam,
    query: PageQuery.extend({
      status: z
        .enum(MESSAGE_STATUSES)
        .optional()
        .openapi({ param: { name: "status", in: "query" } }),
    }),
  },
  responses: {
    200: { description: "A page of messages", content: { "application/json": { schema: pageOf(MessageSchema, "MessagePage") } } },
    ...problems(401, 403, 404, 422),
  },
});

export function registerMessages(api: OpenAPIHono<HonoEnv>) {
  api.openapi(route, async (c) => {
    const { status, ...query } = c.req.valid("query");
    const tenantId = c.var.principal.tenantId;
    const fetch = async (after: string | undefined, take: number) => {
      const campaign = await findCampaign(c.var.db, tenantId, c.req.valid("param").id);
      if (!campaign.messageMonth) return [];
      const conditions = [
        // The month pins the query to the campaign's partition.
        eq(messages.month, campaign.messageMonth),
        eq(messages.tenantId, tenantId),
        eq(messages.campaignId, campaign.id),
        status ? eq(messages.status, status) : undefined,
        after ? gt(messages.id, after) : undefined,
      ];
      return c.var.db
        .select()
        .from(messages)
        .where(and(...conditions))
        .orderBy(asc(messages.id))
        .limit(take);
    };
    return c.json(
      await idPage(query, fetch, (m) => ({
        id: m.id,
        contact_id: m.contactId,
        email: m.email,
        status: m.status,
        provider_id: m.providerId,
        provider_message_id: m.providerMessageId,
        error: m.error,
        attempts: m.attempts,
        created_at: m.createdAt.toISOString(),
        sent_at: m.sentAt?.toISOString() ?? null,
      })),
      200,
    );
  });
}
