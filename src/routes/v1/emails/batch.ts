import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { HonoEnv } from "../../../env";
import { HeraldError, type FieldError } from "../../../errors";
import { fieldErrors } from "../../router";
import { problems } from "../../../lib/schemas";
import { requireScope } from "../../../middleware/auth";
import { acceptAndQueue } from "./accept";
import { EmailBody } from "../../../emails/body";
import { SentBatch } from "./schema";

const route = createRoute({
  method: "post",
  path: "/batch",
  tags: ["emails"],
  summary: "Send up to 100 transactional emails (Resend-compatible)",
  description:
    "x-batch-validation: strict (the default) accepts all or none; permissive sends the valid ones and lists the others under errors. One Idempotency-Key covers the whole batch.",
  security: [{ bearerAuth: [] }],
  middleware: [requireScope("emails:send")] as const,
  request: {
    body: {
      required: true,
      content: {
        "application/json": { schema: z.array(z.unknown()).min(1).max(100).openapi({ description: "Up to 100 SendEmail objects" }) },
      },
    },
  },
  responses: {
    202: { description: "Accepted", content: { "application/json": { schema: SentBatch } } },
    ...problems(400, 401, 403, 409, 413, 415, 422, 429),
  },
});

export function registerBatch(api: OpenAPIHono<HonoEnv>) {
  api.openapi(route, async (c) => {
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
  });
}
