import type { Context } from "hono";
import type { HonoEnv } from "../../../env";
import { acceptEmails, type Idempotency } from "../../../emails/accept";
import { enqueueEmails } from "../../../emails/queue";
import { HeraldError } from "../../../errors";
import { sha256Hex } from "../../../lib/encoding";
import type { EmailBody } from "../../../emails/body";

/** The Idempotency-Key header, checked as Resend does (1–256 characters). */
async function idempotencyOf(c: Context<HonoEnv>, body: unknown): Promise<Idempotency | undefined> {
  const key = c.req.header("idempotency-key");
  if (key === undefined) return undefined;
  if (key.length < 1 || key.length > 256) {
    throw new HeraldError("bad_request", "Idempotency-Key must be 1 to 256 characters", {
      errors: [{ field: "header.idempotency-key", message: "must be 1 to 256 characters" }],
      extensions: { name: "invalid_idempotency_key" },
    });
  }
  // The parsed body, re-serialized: the same request with different whitespace is still the same.
  return {
    key,
    hash: await sha256Hex(`${c.req.method} ${c.req.path}\n${c.req.header("x-batch-validation") ?? ""}\n${JSON.stringify(body)}`),
  };
}

/**
 * Accepts validated emails, queues them after the commit and answers 202 with `respond(ids)`. A
 * replayed Idempotency-Key gets the first response again, marked Idempotent-Replayed.
 */
export async function acceptAndQueue(
  c: Context<HonoEnv>,
  raw: unknown,
  items: { body: EmailBody; index: number }[],
  respond: (ids: string[]) => unknown,
): Promise<Response> {
  const tenantId = c.var.principal.tenantId;
  const idempotency = await idempotencyOf(c, raw);
  const result = await acceptEmails(c.var.db, tenantId, items, (ids) => ({ status: 202, body: respond(ids) }), idempotency);
  if (result.replayed) {
    c.header("idempotent-replayed", "true");
    return c.json(result.body as object, result.status as 202);
  }
  if (result.queued.length > 0) {
    try {
      await enqueueEmails(c.env.TRANSACTIONAL_QUEUE, tenantId, result.queued);
    } catch (err) {
      // Accepted and committed: the cron's outbox pass queues them within a few minutes.
      c.var.logger.warn("could not queue accepted emails; the outbox will", { err, count: result.queued.length });
    }
  }
  return c.json(result.body as object, 202);
}
