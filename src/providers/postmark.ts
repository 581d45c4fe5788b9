import { z } from "zod";
import { runBatch } from "./batch";
import { ApiKey, BaseUrl, bothOrNeither, PostmarkWebhookPassword, PostmarkWebhookUsername, TimeoutMs } from "./config";
import { accepted, failBatch, rejected } from "./errors";
import { isSuccess, SAFE_503, sendRequest, unreadableSuccess, type FetchFn, type HttpContext } from "./http";
import { ProviderError, type EmailProvider, type OutboundEmail, type SendResult } from "./types";

export const PostmarkConfig = z
  .object({
    base_url: BaseUrl.optional(),
    message_stream: z.string().trim().min(1).max(100).default("outbound"),
    timeout_ms: TimeoutMs,
  })
  .strict();

export const PostmarkCredentials = z
  .object({
    server_token: ApiKey,
    webhook_username: PostmarkWebhookUsername.optional(),
    webhook_password: PostmarkWebhookPassword.optional(),
  })
  .strict()
  .superRefine(bothOrNeither);

/** Where requests go without a base_url. */
export const POSTMARK_BASE_URL = "https://api.postmarkapp.com";

const Outcome = z.object({ ErrorCode: z.number().int(), Message: z.string().optional(), MessageID: z.string().optional() });

/** Account-wide refusals: retrying or rejecting single emails is wrong, the tenant has to act. */
const ACCOUNT_CODES: Record<number, "auth" | "misconfigured"> = { 10: "auth", 405: "misconfigured", 412: "misconfigured" };

export function createPostmarkProvider(
  config: z.infer<typeof PostmarkConfig>,
  credentials: z.infer<typeof PostmarkCredentials>,
  fetch: FetchFn,
): EmailProvider {
  // https://postmarkapp.com/developer/api/overview#response-codes: 503 is a planned outage; after a
  // 500 "in most cases the message is lost", which is not "not sent", so a 500 is ambiguous.
  const ctx: HttpContext = { provider: "postmark", fetch, timeoutMs: config.timeout_ms ?? 15_000, safe5xx: SAFE_503 };
  const url = `${config.base_url ?? POSTMARK_BASE_URL}/email/batch`;

  async function sendChunk(emails: OutboundEmail[]): Promise<SendResult[]> {
    const body = emails.map((e) => ({
      From: e.from,
      To: e.to.join(", "),
      ...(e.cc?.length ? { Cc: e.cc.join(", ") } : {}),
      ...(e.bcc?.length ? { Bcc: e.bcc.join(", ") } : {}),
      ...(e.replyTo ? { ReplyTo: e.replyTo } : {}),
      Subject: e.subject,
      ...(e.html ? { HtmlBody: e.html } : {}),
      ...(e.text ? { TextBody: e.text } : {}),
      Headers: Object.entries(e.headers).map(([Name, Value]) => ({ Name, Value })),
      MessageStream: config.message_stream,
      Metadata: { herald_id: e.id },
    }));
    const { answer, json } = await sendRequest(
      ctx,
      url,
      {
        method: "POST",
        headers: {
          accept: "application/json",
          "content-type": "application/json",
          "x-postmark-server-token": credentials.server_token,
        },
        body: JSON.stringify(body),
      },
      (json) => {
        const top = Outcome.safeParse(json);
        return top.success ? top.data.Message : undefined;
      },
    );
    const top = Outcome.safeParse(json);
    if (!isSuccess(answer)) {
      const kind = top.success ? (ACCOUNT_CODES[top.data.ErrorCode] ?? "misconfigured") : "misconfigured";
      const detail = top.success ? `${top.data.ErrorCode} ${top.data.Message ?? ""}` : "no details";
      throw new ProviderError(kind, `postmark refused the batch (${answer.status}): ${detail}`);
    }
    const outcomes = z.array(Outcome).safeParse(json);
    if (answer.status !== 200 || !outcomes.success || outcomes.data.length !== emails.length) {
      throw unreadableSuccess(ctx, answer, "one outcome per email of the batch");
    }
    return mapOutcomes(emails, outcomes.data);
  }

  return { kind: "postmark", maxBatchSize: 500, send: (batch) => runBatch(batch, 500, sendChunk) };
}

function mapOutcomes(emails: OutboundEmail[], outcomes: z.infer<typeof Outcome>[]): SendResult[] {
  const results: (SendResult | undefined)[] = [];
  let accountFailure: ProviderError | undefined;
  for (const [i, o] of outcomes.entries()) {
    const id = emails[i]!.id;
    const account = ACCOUNT_CODES[o.ErrorCode];
    if (o.ErrorCode === 0) results.push(accepted(id, o.MessageID));
    else if (account) {
      accountFailure ??= new ProviderError(account, `postmark: ${o.ErrorCode} ${o.Message ?? ""}`.trim());
      results.push(undefined);
    } else results.push(rejected(id, `postmark ${o.ErrorCode}: ${o.Message ?? "rejected"}`));
  }
  if (accountFailure) failBatch(accountFailure, results);
  return results as SendResult[];
}
