import { z } from "@hono/zod-openapi";
import { defineRoute, type Handler, type ResponseBody } from "../../define";
import { campaignMessages, findCampaign } from "../../../campaigns/store/campaign-reads";
import { MESSAGE_STATUSES } from "../../../db/schema";
import { idPage } from "../../../lib/keyset";
import { IdParam, PageQuery, pageOf, Timestamp } from "../../../lib/schemas";

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

const MessageListQuery = PageQuery.extend({
  status: z
    .enum(MESSAGE_STATUSES)
    .optional()
    .openapi({ param: { name: "status", in: "query" } }),
});

export const route = defineRoute("get", "/{id}/messages", "campaigns:read", {
  summary: "The campaign's message log: one row per recipient, oldest first",
  request: { params: IdParam, query: MessageListQuery },
  responses: [[200, pageOf(MessageSchema, "MessagePage"), "A page of messages"], 404],
});

export const handler: Handler<typeof route> = async (c) => {
  const { status, ...query } = c.req.valid("query");
  const { tenantId } = c.var.principal;
  // The campaign is looked up inside the fetch, so a forged cursor is refused before it (see idPage).
  const fetch = async (after: string | undefined, take: number) =>
    campaignMessages(c.var.db, tenantId, await findCampaign(c.var.db, tenantId, c.req.valid("param").id), { status, after, take });
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
};

export type ListCampaignMessagesResponse = ResponseBody<typeof route>;
