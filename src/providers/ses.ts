import { AwsV4Signer } from "aws4fetch";
import { z } from "zod";
import { sha256Hex } from "../lib/encoding";
import { runBatch, sendEach } from "./batch";
import { BaseUrl, SesWebhookTopicArns, TimeoutMs } from "./config";
import { accepted, rejected } from "./errors";
import {
  httpCall,
  isSuccess,
  messageIn,
  parseJson,
  retryAfter,
  SAFE_503,
  serverFailure,
  unreadableSuccess,
  type FetchFn,
  type HttpAnswer,
  type HttpContext,
} from "./http";
import { ProviderError, type EmailProvider, type OutboundEmail, type SendResult } from "./types";

export const SesConfig = z
  .object({
    region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/, "must be an AWS region such as us-east-1"),
    base_url: BaseUrl.optional(),
    configuration_set: z.string().trim().min(1).max(64).optional(),
    concurrency: z.number().int().min(1).max(50).optional(),
    timeout_ms: TimeoutMs,
    webhook_topic_arns: SesWebhookTopicArns.optional(),
  })
  .strict();

/** Where requests go: base_url, or the region's SES v2 endpoint. */
export function sesBaseUrl(config: { region: string; base_url?: string | undefined }): string {
  return config.base_url ?? `https://email.${config.region}.amazonaws.com`;
}

export const SesCredentials = z
  .object({
    access_key_id: z
      .string()
      .trim()
      .regex(/^[A-Z0-9]{16,128}$/, "must be an AWS access key id"),
    secret_access_key: z.string().trim().min(16).max(256),
    session_token: z.string().trim().min(1).max(4096).optional(),
  })
  .strict();

const TAG_VALUE = /^[A-Za-z0-9_-]{1,256}$/;
const THROTTLED = new Set(["TooManyRequestsException", "ThrottlingException", "Throttling", "LimitExceededException"]);
const AUTH = new Set([
  "UnrecognizedClientException",
  "InvalidSignatureException",
  "SignatureDoesNotMatch",
  "IncompleteSignature",
  "AccessDeniedException",
  "ExpiredTokenException",
  "InvalidClientTokenId",
]);
const ACCOUNT = new Set(["AccountSuspendedException", "SendingPausedException", "MailFromDomainNotVerifiedException", "NotFoundException"]);

/** SES v2 names the error in x-amzn-ErrorType (`Name:namespace…`) or in the body's __type/code. */
function errorType(answer: HttpAnswer, body: unknown): string {
  const raw = answer.headers.get("x-amzn-errortype") ?? messageIn(body, "__type", "code", "Code") ?? "";
  return raw.split(":")[0]!.split("#").pop()!;
}

function failureOf(ctx: HttpContext, answer: HttpAnswer, body: unknown, id: string): SendResult {
  const type = errorType(answer, body);
  const message = messageIn(body, "message", "Message") ?? "no message";
  if (answer.status === 429 || THROTTLED.has(type)) {
    throw new ProviderError("rate_limited", `ses is throttling (${type || answer.status}): ${message}`, retryAfter(answer.headers));
  }
  if (answer.status >= 500) throw serverFailure(ctx, answer, type ? ` ${type}` : "");
  if (AUTH.has(type) || answer.status === 401 || answer.status === 403) {
    throw new ProviderError("auth", `ses refused the credentials (${type || answer.status}): ${message}`);
  }
  if (ACCOUNT.has(type)) throw new ProviderError("misconfigured", `ses: ${type}: ${message}`);
  if (type === "MessageRejected" || type === "BadRequestException" || answer.status === 400) {
    return rejected(id, `ses ${type || answer.status}: ${message}`);
  }
  throw new ProviderError("misconfigured", `ses answered ${answer.status} ${type}: ${message}`);
}

export function createSesProvider(
  config: z.infer<typeof SesConfig>,
  credentials: z.infer<typeof SesCredentials>,
  fetch: FetchFn,
): EmailProvider {
  // https://docs.aws.amazon.com/ses/latest/DeveloperGuide/api-error-codes.html: 503 ServiceUnavailable
  // is "a temporary failure of the server"; 500 InternalFailure is "an unknown error", and AWS warns
  // that retrying 5xx can generate duplicates: ambiguous.
  const ctx: HttpContext = { provider: "ses", fetch, timeoutMs: config.timeout_ms ?? 15_000, safe5xx: SAFE_503 };
  const url = new URL(`${sesBaseUrl(config)}/v2/email/outbound-emails`).href;
  const aws = {
    accessKeyId: credentials.access_key_id,
    secretAccessKey: credentials.secret_access_key,
    sessionToken: credentials.session_token,
    region: config.region,
    service: "ses",
    // Shared by the signers of this provider, so the signing key is derived once per day rather than
    // with four HMACs per email.
    cache: new Map<string, ArrayBuffer>(),
  };

  async function sendOne(e: OutboundEmail): Promise<SendResult> {
    const utf8 = (Data: string) => ({ Data, Charset: "UTF-8" });
    const body = JSON.stringify({
      FromEmailAddress: e.from,
      Destination: {
        ToAddresses: e.to,
        ...(e.cc?.length ? { CcAddresses: e.cc } : {}),
        ...(e.bcc?.length ? { BccAddresses: e.bcc } : {}),
      },
      ...(e.replyTo ? { ReplyToAddresses: [e.replyTo] } : {}),
      Content: {
        Simple: {
          Subject: utf8(e.subject),
          Body: { ...(e.html ? { Html: utf8(e.html) } : {}), ...(e.text ? { Text: utf8(e.text) } : {}) },
          ...(Object.keys(e.headers).length ? { Headers: Object.entries(e.headers).map(([Name, Value]) => ({ Name, Value })) } : {}),
        },
      },
      ...(config.configuration_set ? { ConfigurationSetName: config.configuration_set } : {}),
      ...(TAG_VALUE.test(e.id) ? { EmailTags: [{ Name: "herald_id", Value: e.id }] } : {}),
    });
    // aws4fetch only signs the request; httpCall sends it, so timeouts, refused redirects and the
    // ambiguous-outcome rules are the same as for every other provider.
    const signed = await new AwsV4Signer({
      ...aws,
      method: "POST",
      url,
      body,
      // x-amz-content-sha256 and content-type are signed as well, as AWS's own SDKs do; aws4fetch
      // would otherwise leave content-type out and send no body hash.
      headers: { "content-type": "application/json", "x-amz-content-sha256": await sha256Hex(body) },
      allHeaders: true,
    }).sign();
    const answer = await httpCall(ctx, url, { method: "POST", headers: signed.headers, body });
    const json = parseJson(answer.text);
    if (isSuccess(answer)) {
      const id = messageIn(json, "MessageId");
      if (answer.status !== 200 || !id) throw unreadableSuccess(ctx, answer, "a MessageId");
      return accepted(e.id, id);
    }
    return failureOf(ctx, answer, json, e.id);
  }

  const concurrency = config.concurrency ?? 10;
  return { kind: "ses", maxBatchSize: 100, send: (batch) => runBatch(batch, 100, (emails) => sendEach(emails, concurrency, sendOne)) };
}
