import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import type { HonoEnv } from "../../../env";
import { problems } from "../../../lib/schemas";
import { requireScope } from "../../../middleware/auth";
import { acceptAndQueue } from "./accept";
import { EmailBody } from "../../../emails/body";
import { SentEmail } from "./schema";

const route = createRoute({
  method: "post",
  path: "/",
  tags: ["emails"],
  summary: "Send one transactional email (Resend-compatible)",
  description:
    "Answers 202 once the email is stored; it is sent from the herald-transactional queue. Takes an optional Idempotency-Key header.",
  security: [{ bearerAuth: [] }],
  middleware: [requireScope("emails:send")] as const,
  request: { body: { required: true, content: { "application/json": { schema: EmailBody } } } },
  responses: {
    202: { description: "Accepted", content: { "application/json": { schema: SentEmail } } },
    ...problems(400, 401, 403, 409, 413, 415, 422, 429),
  },
});

export function registerSend(api: OpenAPIHono<HonoEnv>) {
  api.openapi(route, async (c) => {
    const body = c.req.valid("json");
    return acceptAndQueue(c, body, [{ body, index: -1 }], ([id]) => ({ id })) as never;
  });
}
