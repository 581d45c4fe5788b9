import { defineRoute, type Handler, type RequestBody, type ResponseBody } from "../../define";
import { EmailBody } from "../../../emails/body";
import { acceptAndQueue } from "./accept";
import { SentEmail } from "./schema";

export const route = defineRoute("post", "/", "emails:send", {
  summary: "Send one transactional email (Resend-compatible)",
  description:
    "Answers 202 once the email is stored; it is sent from the herald-transactional queue. Takes an optional Idempotency-Key header.",
  request: { body: EmailBody },
  responses: [[202, SentEmail, "Accepted"], 409, 429],
});

export const handler: Handler<typeof route> = async (c) => {
  const body = c.req.valid("json");
  return acceptAndQueue(c, body, [{ body, index: -1 }], ([id]) => ({ id })) as never;
};

export type SendEmailBody = RequestBody<typeof route>;
export type SendEmailResponse = ResponseBody<typeof route>;
