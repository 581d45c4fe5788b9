import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import type { HonoEnv } from "../../../env";
import { uuidv7 } from "../../../lib/ids";
import { IdParam, problems } from "../../../lib/schemas";
import { requireScope } from "../../../middleware/auth";
import { providerFromRow } from "../../../providers/registry";
import { ProviderError, type OutboundEmail } from "../../../providers/types";
import { findProvider } from "./get";
import { TestProviderBody, TestResultSchema } from "./schema";

const route = createRoute({
  method: "post",
  path: "/{id}/test",
  tags: ["providers"],
  summary: "Send one test email through the provider and report what it said (works while disabled, too)",
  security: [{ bearerAuth: [] }],
  middleware: [requireScope("providers:write")] as const,
  request: {
    params: IdParam,
    body: { required: true, content: { "application/json": { schema: TestProviderBody } } },
  },
  responses: {
    200: { description: "The provider's answer", content: { "application/json": { schema: TestResultSchema } } },
    ...problems(400, 401, 403, 404, 413, 415, 422, 503),
  },
});

export function registerTest(api: OpenAPIHono<HonoEnv>) {
  api.openapi(route, async (c) => {
    const row = await findProvider(c.var.db, c.var.principal.tenantId, c.req.valid("param").id);
    const body = c.req.valid("json");
    const provider = await providerFromRow(row, c.env);
    const email: OutboundEmail = {
      id: uuidv7(),
      from: body.from ?? "herald test <herald-test@example.com>",
      to: [body.to],
      subject: body.subject ?? `herald test: ${row.name}`,
      text: `This is a test email from herald, sent through the provider "${row.name}" (${row.kind}).`,
      html: `<p>This is a test email from herald, sent through the provider <strong>${escapeHtml(row.name)}</strong> (${row.kind}).</p>`,
      headers: { "X-Herald-Test": "1" },
    };
    const none = { provider_message_id: null, error: null, failure_kind: null, retry_after_seconds: null };
    try {
      const [result] = await provider.send([email]);
      c.var.logger.info("provider test sent", { provider_id: row.id, status: result!.status });
      return c.json(
        {
          ...none,
          id: email.id,
          status: result!.status,
          provider_message_id: result!.providerMessageId ?? null,
          error: result!.error ?? null,
        },
        200,
      );
    } catch (err) {
      if (!(err instanceof ProviderError)) throw err;
      c.var.logger.warn("provider test failed", { provider_id: row.id, failure_kind: err.kind });
      return c.json(
        {
          ...none,
          id: email.id,
          status: "failed" as const,
          error: err.message,
          failure_kind: err.kind,
          retry_after_seconds: err.retryAfterSeconds ?? null,
        },
        200,
      );
    }
  });
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
