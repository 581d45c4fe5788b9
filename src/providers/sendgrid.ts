import { z } from "zod";
import { parseMailbox } from "./address";
import { runBatch, sendEach } from "./batch";
import { ApiKey, BaseUrl, SendgridWebhookPublicKey, TimeoutMs } from "./config";
import { accepted, rejected } from "./errors";
import { commonFailure, httpCall, isSuccess, parseJson, SAFE_503, unreadableSuccess, type FetchFn, type HttpContext } from "./http";
import { ProviderError, type EmailProvider, type OutboundEmail, type SendResult } from "./types";

export const SendgridConfig = z
  .object({
    base_url: BaseUrl.optional(),
    concurrency: z.number().int().min(1).max(50).optional(),
    timeout_ms: TimeoutMs,
    webhook_public_key: SendgridWebhookPublicKey.optional(),
  })
  .strict();

export const SendgridCredentials = z.object({ api_key: ApiKey }).strict();

function mailbox(text: string) {
  const m = parseMailbox(text)!;
  return m.name ? { email: m.email, name: m.name } : { email: m.email };
}

/** SendGrid's errors come as {errors:[{message, field}]}. */
function errorsOf(body: unknown): string | undefined {
  const list = (body as { errors?: { message?: unknown; field?: unknown }[] } | undefined)?.errors;
  if (!Array.isArray(list)) return undefined;
  return list.map((e) => [e.field, e.message].filter((x) => typeof x === "string" && x).join(": ")).join("; ") || undefined;
}

export function createSendgridProvider(
  config: z.infer<typeof SendgridConfig>,
  credentials: z.infer<typeof SendgridCredentials>,
  fetch: FetchFn,
): EmailProvider {
  // SendGrid's v3 docs: 503 "the v3 Web API is not available"; a 500 is "an error occurred when
  // SendGrid attempted to process" the request, with no promise that nothing was sent: ambiguous.
  const ctx: HttpContext = { provider: "sendgrid", fetch, timeoutMs: config.timeout_ms ?? 15_000, safe5xx: SAFE_503 };
  const url = `${config.base_url ?? "https://api.sendgrid.com"}/v3/mail/send`;

  async function sendOne(e: OutboundEmail): Promise<SendResult> {
    const content = [
      ...(e.text ? [{ type: "text/plain", value: e.text }] : []),
      ...(e.html ? [{ type: "text/html", value: e.html }] : []),
    ];
    const body = {
      personalizations: [
        {
          to: e.to.map(mailbox),
          ...(e.cc?.length ? { cc: e.cc.map(mailbox) } : {}),
          ...(e.bcc?.length ? { bcc: e.bcc.map(mailbox) } : {}),
        },
      ],
      from: mailbox(e.from),
      ...(e.replyTo ? { reply_to: mailbox(e.replyTo) } : {}),
      subject: e.subject,
      content,
      ...(Object.keys(e.headers).length ? { headers: e.headers } : {}),
      custom_args: { herald_id: e.id },
    };
    const answer = await httpCall(ctx, url, {
      method: "POST",
      headers: { authorization: `Bearer ${credentials.api_key}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const json = parseJson(answer.text);
    const failure = commonFailure(ctx, answer, errorsOf(json));
    if (failure) throw failure;
    // 202 (queued) and 200 (sandbox mode) carry no body; the status is the answer.
    if (answer.status === 202 || answer.status === 200) return accepted(e.id, answer.headers.get("x-message-id") ?? undefined);
    if (isSuccess(answer)) throw unreadableSuccess(ctx, answer, "202 Accepted");
    if (answer.status === 400 || answer.status === 413) return rejected(e.id, `sendgrid ${answer.status}: ${errorsOf(json) ?? "bad request"}`);
    throw new ProviderError("misconfigured", `sendgrid answered ${answer.status}: ${errorsOf(json) ?? "no details"}`);
  }

  const concurrency = config.concurrency ?? 10;
  return { kind: "sendgrid", maxBatchSize: 100, send: (batch) => runBatch(batch, 100, (emails) => sendEach(emails, concurrency, sendOne)) };
}
