import { z } from "@hono/zod-openapi";
import { Address } from "../lib/schemas";

const MAX_BODY = 512 * 1024;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/;
/** Headers herald sets itself, or that would change how the message is parsed. */
const RESERVED = new Set([
  "from",
  "to",
  "cc",
  "bcc",
  "subject",
  "reply-to",
  "date",
  "message-id",
  "mime-version",
  "content-type",
  "content-transfer-encoding",
  "list-unsubscribe",
  "list-unsubscribe-post",
  "x-herald-message",
  "x-herald-campaign",
]);
const TAG = /^[A-Za-z0-9_-]{1,256}$/;

/** One address or a list of them, as Resend takes it. */
const Addresses = (max: number) =>
  z
    .union([Address.transform((a) => [a]), z.array(Address).min(1).max(max)])
    .openapi({ description: `An address or up to ${max} addresses` });

/** A transactional email as a caller sends it: Resend's shape, plus herald's own fields (marked). */
export const EmailBody = z
  .object({
    from: Address,
    to: Addresses(50),
    cc: Addresses(50).optional(),
    bcc: Addresses(50).optional(),
    reply_to: Addresses(1).optional(),
    subject: z
      .string()
      .min(1)
      .max(998)
      .refine((s) => !/[\r\n]/.test(s), "must not contain line breaks"),
    html: z.string().max(MAX_BODY).optional(),
    text: z.string().max(MAX_BODY).optional(),
    headers: z
      .record(z.string(), z.string().max(2000))
      .optional()
      .superRefine((h, ctx) => {
        for (const [name, value] of Object.entries(h ?? {})) {
          if (!TOKEN.test(name))
            ctx.addIssue({
              code: "custom",
              message: `header name ${JSON.stringify(name.slice(0, 64))} is not a valid field name`,
              path: [name],
            });
          else if (RESERVED.has(name.toLowerCase()))
            ctx.addIssue({ code: "custom", message: `header ${name} is set by herald`, path: [name] });
          if (/[\r\n\0]/.test(value)) ctx.addIssue({ code: "custom", message: "must not contain line breaks", path: [name] });
        }
        if (Object.keys(h ?? {}).length > 50) ctx.addIssue({ code: "custom", message: "at most 50 headers" });
      }),
    tags: z
      .array(
        z
          .object({
            name: z.string().regex(TAG, "ASCII letters, digits, _ and - only"),
            value: z.string().regex(TAG, "ASCII letters, digits, _ and - only"),
          })
          .strict(),
      )
      .max(50)
      .optional(),
    scheduled_at: z.iso
      .datetime({ offset: true })
      .optional()
      .refine((v) => v === undefined || Date.parse(v) < Date.now() + 30 * 86_400_000, "must be within 30 days")
      // A minute of grace for the caller's clock; further back is a mistake, not "send now".
      .refine((v) => v === undefined || Date.parse(v) > Date.now() - 60_000, "must not be in the past")
      .openapi({ description: "ISO 8601; send at this time instead of now" }),
    provider_id: z
      .string()
      .uuid()
      .optional()
      .openapi({ description: "herald: send through this provider (default: your enabled providers, by priority)" }),
    track_opens: z.boolean().optional().openapi({ description: "herald: add an open-tracking pixel" }),
    track_clicks: z.boolean().optional().openapi({ description: "herald: route links through the click redirect" }),
  })
  .strict()
  .refine((b) => b.html !== undefined || b.text !== undefined, { message: "give html or text", path: ["html"] })
  .openapi("SendEmail");
export type EmailBody = z.infer<typeof EmailBody>;
