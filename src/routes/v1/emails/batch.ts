import { z } from "@hono/zod-openapi";
import { defineRoute, type Handler, type RequestBody, type ResponseBody } from "../../define";
import { fieldErrors } from "../../router";
import { EmailBody } from "../../../emails/body";
import { HeraldError, type FieldError } from "../../../errors";
import { acceptAndQueue } from "./accept";
import { SentBatch } from "./schema";

export const route = defineRoute("post", "/batch", "emails:send", {
  summary: "Send up to 100 transactional emails (Resend-compatible)",
  description:
    "x-batch-validation: strict (the default) accepts all or none; permissive sends the valid ones and lists the others under errors. One Idempotency-Key covers the whole batch.",
  request: { body: z.array(z.unknown()).min(1).max(100).openapi({ description: "Up to 100 SendEmail objects" }) },
  responses: [[202, SentBatch, "Accepted"], 409, 429],
});

export const handler: Handler<typeof route> = async (c) => {
  const raw = c.req.valid("json");
  const permissive = c.req.header("x-batch-validation")?.toLowerCase() === "permissive";
  const valid: { body: EmailBody; index: number }[] = [];
  const invalid: { index: number; errors: FieldError[] }[] = [];
  raw.forEach((item, index) => {
    const parsed = EmailBody.safeParse(item);
    if (parsed.success) valid.push({ body: parsed.data, index });
    else
      invalid.push({
        index,
        errors: fieldErrors("json", parsed.error.issues).map((e) => ({ ...e, field: e.field.replace(/^body/, `body[${index}]`) })),
      });
  });
  if (invalid.length > 0 && (!permissive || valid.length === 0)) {
    const errors = invalid.flatMap((i) => i.errors);
    throw new HeraldError("validation_failed", `invalid ${errors.map((e) => e.field).join(", ")}`, { errors });
  }
  const errors = invalid.map((i) => ({ index: i.index, message: i.errors.map((e) => `${e.field}: ${e.message}`).join("; ") }));
  return acceptAndQueue(c, raw, valid, (ids) => ({ data: ids.map((id) => ({ id })), ...(permissive ? { errors } : {}) })) as never;
};

export type SendEmailBatchBody = RequestBody<typeof route>;
export type SendEmailBatchResponse = ResponseBody<typeof route>;
