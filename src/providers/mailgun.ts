import { z } from "zod";
import { runBatch, sendEach } from "./batch";
import { ApiKey, BaseUrl, MailgunWebhookSigningKey, TimeoutMs } from "./config";
import { accepted, rejected } from "./errors";
import { isSuccess, messageIn, SAFE_500_503, sendRequest, unreadableSuccess, type FetchFn, type HttpContext } from "./http";
import { ProviderError, type EmailProvider, type OutboundEmail, type SendResult } from "./types";

/** Where requests go without a base_url, by region. */
export const MAILGUN_REGION_BASE = { us: "https://api.mailgun.net", eu: "https://api.eu.mailgun.net" } as const;

export const MailgunConfig = z
  .object({
    domain: z
      .string()
      .trim()
      .toLowerCase()
      .regex(/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, "must be a domain name"),
    region: z.enum(["us", "eu"]).default("us"),
    base_url: BaseUrl.optional(),
    concurrency: z.number().int().min(1).max(50).optional(),
    timeout_ms: TimeoutMs,
  })
  .strict();

export const MailgunCredentials = z.object({ api_key: ApiKey, webhook_signing_key: MailgunWebhookSigningKey.optional() }).strict();

/** Mailgun's error text: the JSON's `message`, or the whole answer when it is not JSON. */
function detailOf(json: unknown, text: string): string | undefined {
  return messageIn(json, "message") ?? (json === undefined ? text : undefined);
}

export function createMailgunProvider(
  config: z.infer<typeof MailgunConfig>,
  credentials: z.infer<typeof MailgunCredentials>,
  fetch: FetchFn,
): EmailProvider {
  // https://documentation.mailgun.com/docs/mailgun/quickstart-guide/responses: codes follow HTTP, and
  // after a 500 "retries are recommended".
  const ctx: HttpContext = { provider: "mailgun", fetch, timeoutMs: config.timeout_ms ?? 15_000, safe5xx: SAFE_500_503 };
  const url = `${config.base_url ?? MAILGUN_REGION_BASE[config.region]}/v3/${config.domain}/messages`;
  const authorization = `Basic ${btoa(`api:${credentials.api_key}`)}`;

  async function sendOne(e: OutboundEmail): Promise<SendResult> {
    const form = new FormData();
    form.append("from", e.from);
    for (const to of e.to) form.append("to", to);
    for (const cc of e.cc ?? []) form.append("cc", cc);
    for (const bcc of e.bcc ?? []) form.append("bcc", bcc);
    form.append("subject", e.subject);
    if (e.html) form.append("html", e.html);
    if (e.text) form.append("text", e.text);
    if (e.replyTo) form.append("h:Reply-To", e.replyTo);
    for (const [name, value] of Object.entries(e.headers)) form.append(`h:${name}`, value);
    form.append("v:herald_id", e.id);
    const { answer, json } = await sendRequest(ctx, url, { method: "POST", headers: { authorization }, body: form }, detailOf);
    const detail = detailOf(json, answer.text);
    if (isSuccess(answer)) {
      const id = messageIn(json, "id");
      if (answer.status !== 200 || !id) throw unreadableSuccess(ctx, answer, "a message id");
      return accepted(e.id, id);
    }
    if (answer.status === 400 || answer.status === 413) return rejected(e.id, `mailgun ${answer.status}: ${detail ?? "bad request"}`);
    throw new ProviderError("misconfigured", `mailgun answered ${answer.status}${detail ? `: ${detail}` : ""}`);
  }

  const concurrency = config.concurrency ?? 10;
  return { kind: "mailgun", maxBatchSize: 100, send: (batch) => runBatch(batch, 100, (emails) => sendEach(emails, concurrency, sendOne)) };
}
