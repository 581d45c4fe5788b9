import { defineRoute, type Handler, type RequestBody, type ResponseBody } from "../../define";
import { uuidv7 } from "../../../lib/ids";
import { IdParam } from "../../../lib/schemas";
import { providerFromRow } from "../../../providers/registry";
import { ProviderError, type OutboundEmail } from "../../../providers/types";
import { findProvider } from "../../../providers/rows";
import { TestProviderBody, TestResultSchema } from "./schema";

export const route = defineRoute("post", "/{id}/test", "providers:write", {
  summary: "Send one test email through the provider and report what it said (works while disabled, too)",
  request: { params: IdParam, body: TestProviderBody },
  responses: [[200, TestResultSchema, "The provider's answer"], 404, 503],
});

export const handler: Handler<typeof route> = async (c) => {
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
};

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

export type SendProviderTestBody = RequestBody<typeof route>;
export type SendProviderTestResponse = ResponseBody<typeof route>;
