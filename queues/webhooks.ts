import { queueDelay } from "../src/lib/queues";
import { ConfigError } from "../src/config";
import { runLimited } from "../src/lib/concurrency";
import { DecryptionError } from "../src/lib/crypto";
import { destinationPolicy, urlProblem } from "../src/lib/destination";
import { clipCodePoints } from "../src/lib/text";
import type { Db } from "../src/services/db";
import type { Logger } from "../src/services/logger";
import { abandonDelivery, loadDelivery, recordFailure, settleDelivery, type DeliveryRow } from "../src/webhooks/outbound/delivery-rows";
import { WebhookDeliveryMessage } from "../src/webhooks/outbound/dispatch";
import { deliveryHeaders, openSigningKeys, type SigningKeys } from "../src/webhooks/outbound/headers";
import { withBatchServices, type MessageHandler } from "./handler";

/** How long an endpoint has to answer one attempt. */
export const WEBHOOK_TIMEOUT_MS = 10_000;
export const WEBHOOK_USER_AGENT = "herald-webhooks/1";
/** The first retry waits this long; each further one twice as long as the one before… */
export const WEBHOOK_BACKOFF_BASE_SECONDS = 30;
/** …up to this. */
export const WEBHOOK_BACKOFF_MAX_SECONDS = 6 * 3600;
/** Retries wait up to this fraction longer than the schedule, so retries after an outage spread out. */
export const WEBHOOK_BACKOFF_JITTER = 0.2;
/** Deliveries of one batch in flight at once (a Worker keeps at most six connections open). */
const CONCURRENCY = 4;
/** Error texts in the delivery log are kept this short. */
const MAX_ERROR_CHARS = 300;
/** How much of a failed answer's body the log keeps. */
const MAX_BODY_SNIPPET = 200;

/**
 * The wait before retrying after the `attempts`-th delivery of a queue message failed:
 * min(6 h, 30 s × 2^(attempts − 1)), plus up to 20 % jitter, within what Queues accept (≤ 12 h).
 */
export function webhookRetryDelaySeconds(attempts: number, random: () => number = Math.random): number {
  const base = Math.min(WEBHOOK_BACKOFF_MAX_SECONDS, WEBHOOK_BACKOFF_BASE_SECONDS * 2 ** Math.max(0, attempts - 1));
  return queueDelay(base * (1 + WEBHOOK_BACKOFF_JITTER * random()));
}

type Outcome = { ok: true; status: number } | { ok: false; status: number | null; error: string };

/**
 * Delivers a batch of webhook deliveries, a few at a time, each acked or retried on its own: load the
 * delivery and its endpoint (scoped by the message's tenant), POST the payload signed over the exact
 * bytes sent, and record the attempt. A 2xx settles it; anything else is retried with exponential
 * backoff until the queue's retries run out and it is dead-lettered (handleDeadWebhook marks it failed).
 */
export async function processWebhookBatch(batch: MessageBatch, env: Env, ctx: ExecutionContext, logger: Logger): Promise<void> {
  await withBatchServices(env, ctx, logger, async (services) => {
    const db = () => services.db;
    await runLimited(
      batch.messages.map((message) => () => deliverOne(message, env, db, logger)),
      CONCURRENCY,
    );
  });
}

async function deliverOne(message: Message, env: Env, db: () => Db, logger: Logger): Promise<void> {
  const parsed = WebhookDeliveryMessage.safeParse(message.body);
  if (!parsed.success) {
    logger.error("malformed webhook message dropped", {
      message_id: message.id,
      issues: parsed.error.issues.map((i) => i.path.join(".") || "(root)"),
    });
    message.ack();
    return;
  }
  const { tenant_id: tenantId, delivery_id: deliveryId } = parsed.data;
  const log = logger.child({ tenant_id: tenantId, delivery_id: deliveryId, attempts: message.attempts });
  /** Fails the delivery without a request (nothing was sent, so no attempt is counted). */
  const failUnsent = (error: string) =>
    settleDelivery(db(), tenantId, deliveryId, { status: "failed", attempted: false, responseStatus: null, error });
  try {
    const row = await loadDelivery(db(), tenantId, deliveryId);
    if (!row) {
      // Its endpoint was deleted (and the log with it) since it was queued.
      log.info("webhook delivery gone; dropped");
      message.ack();
      return;
    }
    if (row.status !== "pending") {
      // Settled already: a duplicate message, or a redelivery's twin that lost the race.
      message.ack();
      return;
    }
    if (!row.enabled) {
      await failUnsent("the endpoint is disabled");
      log.info("webhook endpoint disabled; delivery failed", { endpoint_id: row.endpoint_id });
      message.ack();
      return;
    }
    // Checked at every attempt, not only when the URL was saved: a row from before the check, or a
    // deployment whose DEV_ALLOW_LOOPBACK changed, must not reach a private address. Nothing is sent,
    // so the delivery fails at once; a redelivery after the URL is fixed sends it.
    const refused = urlProblem(row.url, destinationPolicy(env));
    if (refused) {
      await failUnsent(short(`not sent: the endpoint URL ${refused}`));
      log.warn("webhook endpoint URL refused; delivery failed without a request", { endpoint_id: row.endpoint_id, reason: refused });
      message.ack();
      return;
    }
    let keys: SigningKeys;
    try {
      keys = await openSigningKeys(
        row.endpoint_id,
        { scheme: row.signature_scheme, secret: row.secret, previousSecret: row.previous_secret },
        env,
      );
    } catch (err) {
      if (!(err instanceof DecryptionError)) throw err;
      await failUnsent("the signing secret cannot be decrypted; rotate it");
      log.error("webhook signing secret cannot be decrypted; delivery failed", { endpoint_id: row.endpoint_id });
      message.ack();
      return;
    }
    const outcome = await post(row, keys);
    if (outcome.ok) {
      await settleDelivery(db(), tenantId, deliveryId, {
        status: "succeeded",
        attempted: true,
        responseStatus: outcome.status,
        error: null,
      });
      message.ack();
      return;
    }
    await recordFailure(db(), tenantId, deliveryId, outcome.status, outcome.error);
    const delaySeconds = webhookRetryDelaySeconds(message.attempts);
    log.warn("webhook delivery failed; will retry", {
      endpoint_id: row.endpoint_id,
      response_status: outcome.status,
      error: outcome.error,
      delay_seconds: delaySeconds,
    });
    message.retry({ delaySeconds });
  } catch (err) {
    // The database or the configuration failed, not the endpoint: try the message again later (this
    // counts toward the queue's retries; if the POST had gone out, the receiver dedupes on the id).
    const delaySeconds = webhookRetryDelaySeconds(message.attempts);
    if (err instanceof ConfigError)
      log.error("configuration error; webhook delivery will retry", { setting: err.setting, delay_seconds: delaySeconds });
    else log.warn("webhook delivery could not be processed; will retry", { err, delay_seconds: delaySeconds });
    message.retry({ delaySeconds });
  }
}

/** One attempt: the payload's JSON, signed over exactly those bytes in the endpoint's scheme, with a 10 s timeout. */
async function post(row: DeliveryRow, keys: SigningKeys): Promise<Outcome> {
  const body = JSON.stringify(row.payload);
  const timestamp = Math.floor(Date.now() / 1000);
  const headers = {
    "content-type": "application/json",
    "user-agent": WEBHOOK_USER_AGENT,
    ...(await deliveryHeaders(keys, row.id, timestamp, body)),
  };
  let res: Response;
  try {
    // Redirects are not followed: the answer to this request is the endpoint's answer.
    res = await fetch(row.url, { method: "POST", headers, body, redirect: "manual", signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS) });
  } catch (err) {
    const name = err instanceof Error ? err.name : "";
    if (name === "TimeoutError" || name === "AbortError")
      return { ok: false, status: null, error: `no answer within ${WEBHOOK_TIMEOUT_MS / 1000} s` };
    return { ok: false, status: null, error: short(`request failed: ${err instanceof Error ? err.message : String(err)}`) };
  }
  if (res.status >= 200 && res.status < 300) {
    await res.body?.cancel().catch(() => {});
    return { ok: true, status: res.status };
  }
  const snippet = await readSnippet(res);
  return { ok: false, status: res.status, error: short(`HTTP ${res.status}${snippet ? `: ${snippet}` : ""}`) };
}

/** The start of an answer's body, for the delivery log; the rest is never read. */
async function readSnippet(res: Response): Promise<string> {
  if (!res.body) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < MAX_BODY_SNIPPET * 4) {
      const { done, value } = await reader.read();
      if (done || !value) break;
      chunks.push(value);
      size += value.length;
    }
  } catch {
    // Whatever arrived is enough.
  } finally {
    reader.cancel().catch(() => {});
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.length;
  }
  // Clipped by code points: cutting UTF-16 units could leave half a surrogate pair in the log.
  return clipCodePoints(new TextDecoder().decode(bytes).replace(/\s+/g, " ").trim(), MAX_BODY_SNIPPET);
}

/** The endpoint's text (and a runtime's error message) is third-party text: well-formed and bounded. */
function short(text: string): string {
  return clipCodePoints(text, MAX_ERROR_CHARS);
}

/**
 * A delivery whose retries ran out: it is marked failed, keeping the last attempt's answer and error,
 * and stays in the log for a manual redelivery.
 */
export const handleDeadWebhook: MessageHandler = async (raw, { db, logger }) => {
  const msg = WebhookDeliveryMessage.parse(raw);
  const row = await abandonDelivery(db(), msg.tenant_id, msg.delivery_id);
  logger.error("webhook delivery dead-lettered; marked failed", {
    delivery_id: msg.delivery_id,
    endpoint_id: row?.endpoint_id,
    attempts: row?.attempts,
  });
};
