import { z } from "zod";
import { runBatch } from "./batch";
import { accepted, rejected } from "./errors";
import { envelopeJson } from "./envelope-json";
import { isSuccess, messageIn, sendRequest, unreadableSuccess, type FetchFn, type HttpContext } from "./http";
import { ProviderError, type EmailProvider, type OutboundEmail, type SendResult } from "./types";
import { TimeoutMs } from "./config";

/**
 * herald's own wire format (scripts/lib/sink-server.mjs). The schema takes http too, for the local
 * stack's sink; src/lib/destination.ts then allows plain http only to loopback with DEV_ALLOW_LOOPBACK.
 */
export const SinkConfig = z
  .object({
    url: z.url({ protocol: /^https?$/ }),
    timeout_ms: TimeoutMs,
  })
  .strict();

export const SinkCredentials = z
  .object({ token: z.string().min(1).max(500) })
  .strict()
  .nullish();

const SinkAnswer = z.object({
  results: z.array(z.object({ id: z.string(), status: z.enum(["accepted", "rejected"]), error: z.string().optional() })),
});

export function createSinkProvider(
  config: z.infer<typeof SinkConfig>,
  credentials: z.infer<typeof SinkCredentials>,
  fetch: FetchFn,
): EmailProvider {
  // The wire format says 429 and every 5xx mean the batch was not accepted.
  const ctx: HttpContext = { provider: "sink", fetch, timeoutMs: config.timeout_ms ?? 10_000, safe5xx: () => true };
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (credentials?.token) headers.authorization = `Bearer ${credentials.token}`;

  async function sendChunk(emails: OutboundEmail[]): Promise<SendResult[]> {
    const messages = emails.map((e) => ({
      id: e.id,
      from: e.from,
      ...envelopeJson(e),
      subject: e.subject,
      html: e.html ?? null,
      text: e.text ?? null,
      headers: e.headers,
    }));
    const { answer, json: body } = await sendRequest(
      ctx,
      config.url,
      { method: "POST", headers, body: JSON.stringify({ messages }) },
      (json) => messageIn(json, "error", "message"),
    );
    if (!isSuccess(answer)) {
      throw new ProviderError(
        "misconfigured",
        `sink answered ${answer.status}${messageIn(body, "error") ? `: ${messageIn(body, "error")}` : ""}`,
      );
    }
    const parsed = SinkAnswer.safeParse(body);
    if (answer.status !== 200 || !parsed.success) throw unreadableSuccess(ctx, answer, "a results array");
    return parsed.data.results.map((r) => (r.status === "accepted" ? accepted(r.id) : rejected(r.id, r.error ?? "rejected by the sink")));
  }

  return { kind: "sink", maxBatchSize: 100, send: (batch) => runBatch(batch, 100, sendChunk) };
}
