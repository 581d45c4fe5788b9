import { z } from "zod";
import { runBatch } from "./batch";
import { ApiKey, BaseUrl, ResendWebhookSecret, TimeoutMs } from "./config";
import { accepted, rejected } from "./errors";
import { commonFailure, httpCall, messageIn, parseJson, type FetchFn, type HttpContext } from "./http";
import { sha256Hex } from "../lib/encoding";
import { ProviderError, type EmailProvider, type OutboundEmail, type SendResult } from "./types";

export const ResendConfig = z
  .object({
    base_url: BaseUrl.optional(),
    timeout_ms: TimeoutMs,
  })
  .strict();

export const ResendCredentials = z.object({ api_key: ApiKey, webhook_secret: ResendWebhookSecret.optional() }).strict();

const BatchAnswer = z.object({
  data: z.array(z.object({ id: z.string() })),
  errors: z.array(z.object({ index: z.number().int(), message: z.string() })).optional(),
});

export function createResendProvider(
  config: z.infer<typeof ResendConfig>,
  credentials: z.infer<typeof ResendCredentials>,
  fetch: FetchFn,
): EmailProvider {
  const ctx: HttpContext = { provider: "resend", fetch, timeoutMs: config.timeout_ms ?? 15_000 };
  const url = `${config.base_url ?? "https://api.resend.com"}/emails/batch`;

  async function sendChunk(emails: OutboundEmail[]): Promise<SendResult[]> {
    const body = emails.map((e) => ({
      from: e.from,
      to: e.to,
      ...(e.cc?.length ? { cc: e.cc } : {}),
      ...(e.bcc?.length ? { bcc: e.bcc } : {}),
      ...(e.replyTo ? { reply_to: e.replyTo } : {}),
      subject: e.subject,
      ...(e.html ? { html: e.html } : {}),
      ...(e.text ? { text: e.text } : {}),
      headers: e.headers,
      // Echoed back in Resend's webhooks, so an event finds its herald message again.
      tags: [{ name: "herald_id", value: e.id }],
    }));
    const answer = await httpCall(ctx, url, {
      method: "POST",
      headers: {
        authorization: `Bearer ${credentials.api_key}`,
        "content-type": "application/json",
        // Permissive: one bad address fails alone instead of sinking the whole batch.
        "x-batch-validation": "permissive",
        // A retried batch is recognised for 24 h and not sent twice.
        "idempotency-key": `herald-${await sha256Hex(emails.map((e) => e.id).join(","))}`,
      },
      body: JSON.stringify(body),
    });
    const json = parseJson(answer.text);
    const failure = commonFailure(ctx, answer, messageIn(json, "message"));
    if (failure) throw failure;
    if (answer.status === 409) {
      throw new ProviderError("unavailable", `resend is still processing this batch (409): ${messageIn(json, "message") ?? ""}`);
    }
    if (answer.status !== 200) {
      throw new ProviderError("misconfigured", `resend refused the batch (${answer.status}): ${messageIn(json, "message") ?? "no message"}`);
    }
    const parsed = BatchAnswer.safeParse(json);
    if (!parsed.success) throw new ProviderError("unavailable", "resend answered 200 without a data array");
    return mapAnswer(emails, parsed.data);
  }

  return { kind: "resend", maxBatchSize: 100, send: (batch) => runBatch(batch, 100, sendChunk) };
}

/** In permissive mode `data` lists only the accepted emails, in order; `errors` names the others by index. */
function mapAnswer(emails: OutboundEmail[], answer: z.infer<typeof BatchAnswer>): SendResult[] {
  const failed = new Map((answer.errors ?? []).map((e) => [e.index, e.message]));
  const ids = [...answer.data];
  if (ids.length !== emails.length - failed.size) {
    throw new ProviderError("unavailable", "resend's answer did not account for every email of the batch");
  }
  return emails.map((email, i) => {
    const why = failed.get(i);
    return why !== undefined ? rejected(email.id, why) : accepted(email.id, ids.shift()!.id);
  });
}
