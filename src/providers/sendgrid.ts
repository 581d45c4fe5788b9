import { z } from "zod";
import { runBatch } from "./batch";
import { ApiKey, BaseUrl, SendgridWebhookPublicKey, TimeoutMs } from "./config";
import { accepted, rejected } from "./errors";
import { isSuccess, SAFE_503, sendRequest, unreadableSuccess, type FetchFn, type HttpAnswer, type HttpContext } from "./http";
import { naming, runCalls } from "./multi-recipient";
import { plan, type Member } from "./sendgrid-plan";
import { errorsOf, MAX_PERSONALIZATIONS, mailbox, personalization } from "./sendgrid-request";
import { ProviderError, type EmailProvider, type OutboundEmail, type SendResult } from "./types";

export const SendgridConfig = z
  .object({
    base_url: BaseUrl.optional(),
    concurrency: z.number().int().min(1).max(50).optional(),
    timeout_ms: TimeoutMs,
    webhook_public_key: SendgridWebhookPublicKey.optional(),
  })
  .strict();

/** Where requests go without a base_url. */
export const SENDGRID_BASE_URL = "https://api.sendgrid.com";

export const SendgridCredentials = z.object({ api_key: ApiKey }).strict();

export function createSendgridProvider(
  config: z.infer<typeof SendgridConfig>,
  credentials: z.infer<typeof SendgridCredentials>,
  fetch: FetchFn,
): EmailProvider {
  // SendGrid's v3 docs: 503 "the v3 Web API is not available"; a 500 is "an error occurred when
  // SendGrid attempted to process" the request, with no promise that nothing was sent: ambiguous.
  const ctx: HttpContext = { provider: "sendgrid", fetch, timeoutMs: config.timeout_ms ?? 15_000, safe5xx: SAFE_503 };
  const url = `${config.base_url ?? SENDGRID_BASE_URL}/v3/mail/send`;
  const post = (body: string) =>
    sendRequest(
      ctx,
      url,
      {
        method: "POST",
        headers: { authorization: `Bearer ${credentials.api_key}`, "content-type": "application/json" },
        body,
      },
      errorsOf,
    );

  /**
   * Whether SendGrid took a request: 202 (queued) and 200 (sandbox mode) carry no body, the status
   * is the answer. False for a 400 or 413, which refuse the whole request and send nothing; any
   * other answer throws.
   */
  function taken(answer: HttpAnswer, json: unknown): boolean {
    if (answer.status === 202 || answer.status === 200) return true;
    if (isSuccess(answer)) throw unreadableSuccess(ctx, answer, "202 Accepted");
    if (answer.status === 400 || answer.status === 413) return false;
    throw new ProviderError("misconfigured", `sendgrid answered ${answer.status}: ${errorsOf(json) ?? "no details"}`);
  }

  async function sendOne(e: OutboundEmail): Promise<SendResult> {
    const content = [...(e.text ? [{ type: "text/plain", value: e.text }] : []), ...(e.html ? [{ type: "text/html", value: e.html }] : [])];
    const body = {
      personalizations: [personalization(e)],
      from: mailbox(e.from),
      ...(e.replyTo ? { reply_to: mailbox(e.replyTo) } : {}),
      subject: e.subject,
      content,
      ...(Object.keys(e.headers).length ? { headers: e.headers } : {}),
      custom_args: { herald_id: e.id },
    };
    const { answer, json } = await post(JSON.stringify(body));
    if (taken(answer, json)) return accepted(e.id, answer.headers.get("x-message-id") ?? undefined);
    return rejected(e.id, `sendgrid ${answer.status}: ${errorsOf(json) ?? "bad request"}`);
  }

  /**
   * One request for several emails that share `shared` (from, reply_to, content). A 400 or 413
   * refuses the whole request and sends nothing, so its emails go again in halves, down to one
   * email in the one-email form, which is then refused on its own. Any other failure is the
   * request's: an ambiguous one names all its emails.
   */
  async function sendShared(shared: string, members: Member[], settle: (k: number, r: SendResult) => void): Promise<void> {
    if (members.length === 1) {
      settle(members[0]!.k, await sendOne(members[0]!.email).catch((err: unknown) => Promise.reject(naming(err, [members[0]!.email]))));
      return;
    }
    const emails = members.map((m) => m.email);
    const body = `{"personalizations":[${members.map((m) => m.json).join(",")}],${shared}}`;
    try {
      const { answer, json } = await post(body);
      if (taken(answer, json)) {
        // One X-Message-Id for the request; SendGrid's events carry it with a suffix per recipient.
        const id = answer.headers.get("x-message-id") ?? undefined;
        for (const m of members) settle(m.k, accepted(m.email.id, id));
        return;
      }
    } catch (err) {
      throw naming(err, emails);
    }
    const half = Math.ceil(members.length / 2);
    await sendShared(shared, members.slice(0, half), settle);
    await sendShared(shared, members.slice(half), settle);
  }

  const concurrency = config.concurrency ?? 10;
  return {
    kind: "sendgrid",
    maxBatchSize: MAX_PERSONALIZATIONS,
    send: (batch) =>
      runBatch(batch, MAX_PERSONALIZATIONS, (emails) => runCalls(emails, plan(emails, { sendOne, sendShared }), concurrency)),
  };
}
