import { z } from "zod";
import { runBatch } from "./batch";
import { ApiKey, BaseUrl, ResendWebhookSecret, TimeoutMs } from "./config";
import { accepted, rejected } from "./errors";
import { envelopeJson } from "./envelope-json";
import { isSuccess, messageIn, SAFE_500_503, sendRequest, unreadableSuccess, type FetchFn, type HttpContext } from "./http";
import { sha256Hex } from "../lib/encoding";
import { ProviderError, type EmailProvider, type OutboundEmail, type PreparedRequest, type SendResult } from "./types";

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

/** Where requests go without a base_url. */
export const RESEND_BASE_URL = "https://api.resend.com";

/** Resend's batch endpoint takes at most this many emails. */
const MAX_BATCH = 100;

export function createResendProvider(
  config: z.infer<typeof ResendConfig>,
  credentials: z.infer<typeof ResendCredentials>,
  fetch: FetchFn,
): EmailProvider {
  // https://resend.com/docs/api-reference/errors: 500 internal_server_error, "try the request again later".
  const ctx: HttpContext = { provider: "resend", fetch, timeoutMs: config.timeout_ms ?? 15_000, safe5xx: SAFE_500_503 };
  const url = `${config.base_url ?? RESEND_BASE_URL}/emails/batch`;

  /**
   * The request for a batch. Its key depends on the email ids alone, so any other body for the same
   * emails is refused (409) within Resend's 24 hours instead of being sent a second time.
   */
  async function prepare(batch: OutboundEmail[]): Promise<PreparedRequest> {
    if (batch.length < 1 || batch.length > MAX_BATCH) {
      throw new ProviderError("misconfigured", `a resend batch holds 1 to ${MAX_BATCH} emails, not ${batch.length}`);
    }
    const body = batch.map((e) => ({
      from: e.from,
      ...envelopeJson(e),
      subject: e.subject,
      ...(e.html ? { html: e.html } : {}),
      ...(e.text ? { text: e.text } : {}),
      headers: e.headers,
      // Echoed back in Resend's webhooks, so an event finds its herald message again.
      tags: [{ name: "herald_id", value: e.id }],
    }));
    return { key: `herald-${await sha256Hex(batch.map((e) => e.id).join(","))}`, body: JSON.stringify(body) };
  }

  async function sendPrepared(request: PreparedRequest, ids: string[]): Promise<SendResult[]> {
    try {
      const { answer, json } = await sendRequest(
        ctx,
        url,
        {
          method: "POST",
          headers: {
            authorization: `Bearer ${credentials.api_key}`,
            "content-type": "application/json",
            // Permissive: one bad address fails alone instead of sinking the whole batch.
            "x-batch-validation": "permissive",
            // Resend keeps the key 24 h: the same request again is answered, not sent again.
            "idempotency-key": request.key,
          },
          body: request.body,
        },
        (json) => messageIn(json, "message"),
      );
      if (answer.status === 409) {
        // invalid_idempotent_request (another body for this key) or concurrent_idempotent_requests
        // (the first request is still running): either way a request with this key may have been sent.
        const name = messageIn(json, "name") ?? "conflict";
        throw new ProviderError(
          "ambiguous",
          `resend refused the idempotency key (409 ${name}): ${messageIn(json, "message") ?? "no message"}`,
        );
      }
      if (!isSuccess(answer)) {
        throw new ProviderError(
          "misconfigured",
          `resend refused the batch (${answer.status}): ${messageIn(json, "message") ?? "no message"}`,
        );
      }
      const parsed = BatchAnswer.safeParse(json);
      if (answer.status !== 200 || !parsed.success) throw unreadableSuccess(ctx, answer, "a data array");
      return mapAnswer(ids, parsed.data);
    } catch (err) {
      // An ambiguous request is handed back whole, so the caller can replay exactly it.
      if (err instanceof ProviderError && err.ambiguous) {
        throw new ProviderError("ambiguous", err.message, err.retryAfterSeconds, ids, request);
      }
      throw err;
    }
  }

  return {
    kind: "resend",
    maxBatchSize: MAX_BATCH,
    // One chunk per call when callers keep to maxBatchSize, so a replay covers exactly the call's emails.
    send: (batch) =>
      runBatch(batch, MAX_BATCH, async (emails) =>
        sendPrepared(
          await prepare(emails),
          emails.map((e) => e.id),
        ),
      ),
    idempotent: { prepare, sendPrepared },
  };
}

/** In permissive mode `data` lists only the accepted emails, in order; `errors` names the others by index. */
function mapAnswer(ids: string[], answer: z.infer<typeof BatchAnswer>): SendResult[] {
  const failed = new Map((answer.errors ?? []).map((e) => [e.index, e.message]));
  const data = [...answer.data];
  if ([...failed.keys()].some((i) => i < 0 || i >= ids.length) || data.length !== ids.length - failed.size) {
    throw new ProviderError("ambiguous", "resend's answer did not account for every email of the batch; it may have accepted them");
  }
  return ids.map((id, i) => {
    const why = failed.get(i);
    return why !== undefined ? rejected(id, why) : accepted(id, data.shift()!.id);
  });
}
