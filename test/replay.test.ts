// Replayed inbound webhooks change nothing. Mailgun signs a one-time token: a request answered 2xx
// is remembered (in the request's cache) for as long as its timestamp is valid, so a captured one
// sent again is answered 200 with nothing processed, while Mailgun's retry of a request that failed
// is processed. Postmark has only Basic auth, so herald cannot tell a replay: event de-duplication
// makes it a no-op instead. Events are stored by the worker's real events consumer.
import { env } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { uuidv7 } from "../src/lib/ids";
import { consumeEvents, createProvider, deliver, recordingQueue } from "./inbound-helpers";
import { mailgunProvider as signedMailgunProvider } from "./inbound-route/helpers";
import { basicAuth, mailgunSignature } from "./inbound-signers";
import { call, expectProblem, newTenant, nowSeconds, withDb } from "./helpers";

const RECEIVER = (env as Env & { TEST_WEBHOOK_URL: string }).TEST_WEBHOOK_URL;

async function answered(r: { res: Response }) {
  const text = await r.res.text();
  expect(r.res.status, text).toBe(200);
  return JSON.parse(text) as { received: number; duplicate?: boolean };
}

/** A Mailgun provider (test/inbound-route/helpers.ts) and fresh event-data for its webhooks. */
async function mailgunProvider() {
  const { apiKey, tenantId, id, signingKey } = await signedMailgunProvider();
  const eventData = (extra: Record<string, unknown> = {}) => ({
    id: `mg-${crypto.randomUUID()}`,
    event: "delivered",
    recipient: "bob@example.com",
    timestamp: nowSeconds(),
    "user-variables": { herald_id: uuidv7() },
    ...extra,
  });
  return { apiKey, tenantId, id, signingKey, eventData };
}

describe("Mailgun replay protection", () => {
  it("a captured Mailgun webhook replayed is not processed twice, even with other event-data under its signature", async () => {
    const { id, signingKey, eventData } = await mailgunProvider();
    const signature = await mailgunSignature(signingKey, nowSeconds());
    const body = JSON.stringify({ signature, "event-data": eventData() });

    const first = await deliver(id, body);
    expect(await answered(first)).toEqual({ received: 1 });
    expect(first.sent).toHaveLength(1);

    // The same bytes again: 200 (so a sender whose first answer was lost stops), nothing queued.
    const replay = await deliver(id, body);
    expect(await answered(replay)).toEqual({ received: 0, duplicate: true });
    expect(replay.sent).toEqual([]);

    // Mailgun's signature covers only timestamp + token, so a captured signature could carry forged
    // event-data (a hard bounce that suppresses the address): refused the same way.
    const forged = JSON.stringify({ signature, "event-data": eventData({ event: "failed", severity: "permanent" }) });
    const second = await deliver(id, forged);
    expect(await answered(second)).toEqual({ received: 0, duplicate: true });
    expect(second.sent).toEqual([]);

    // A fresh request from Mailgun (a new token) is processed as usual.
    const fresh = await deliver(
      id,
      JSON.stringify({ signature: await mailgunSignature(signingKey, nowSeconds()), "event-data": eventData() }),
    );
    expect(await answered(fresh)).toEqual({ received: 1 });
  });

  it("Mailgun's retry of a request answered 5xx is processed", async () => {
    const { id, signingKey, eventData } = await mailgunProvider();
    const body = JSON.stringify({ signature: await mailgunSignature(signingKey, nowSeconds()), "event-data": eventData() });

    // The events queue fails: 500, and the token is not remembered.
    const failed = await deliver(id, body, {}, true);
    await expectProblem(failed.res, 500, "internal");

    // Mailgun retries the very same request: processed this time.
    const retried = await deliver(id, body);
    expect(await answered(retried)).toEqual({ received: 1 });
    expect(retried.sent).toHaveLength(1);

    // Once answered 2xx, the same request again is a replay.
    expect(await answered(await deliver(id, body))).toEqual({ received: 0, duplicate: true });
  });

  it("a request refused for its signature is not remembered: the correctly signed one still passes", async () => {
    const { id, signingKey, eventData } = await mailgunProvider();
    const signature = await mailgunSignature(signingKey, nowSeconds());
    const tampered = JSON.stringify({ signature: { ...signature, signature: "0".repeat(64) }, "event-data": eventData() });
    await expectProblem((await deliver(id, tampered)).res, 401, "unauthorized");
    const genuine = await deliver(id, JSON.stringify({ signature, "event-data": eventData() }));
    expect(await answered(genuine)).toEqual({ received: 1 });
  });
});

describe("Postmark replays", () => {
  it("a replayed Postmark webhook changes nothing: one event, one suppression, one outbound webhook", async () => {
    const { apiKey, tenantId } = await newTenant();
    const { id } = await createProvider(apiKey, {
      kind: "postmark",
      credentials: { server_token: "pm-token", webhook_username: "herald", webhook_password: "s3cret-pass" },
    });
    const endpoint = await call("/v1/webhooks", {
      method: "POST",
      token: apiKey,
      json: { url: `${RECEIVER}/hook?tag=replay-${crypto.randomUUID()}` },
    });
    expect(endpoint.status, await endpoint.clone().text()).toBe(201);
    const to = `gone.${crypto.randomUUID().slice(0, 8)}@example.test`;
    const body = JSON.stringify({
      RecordType: "Bounce",
      Type: "HardBounce",
      MessageID: `pm-${crypto.randomUUID()}`,
      Email: to,
      BouncedAt: "2025-06-01T11:00:00Z",
      Description: "Unknown user",
      Metadata: { herald_id: uuidv7() },
    });
    const auth = basicAuth("herald", "s3cret-pass");
    const webhooks = recordingQueue<unknown>();

    // Postmark's own delivery: stored, the address suppressed, one webhook.
    const first = await deliver(id, body, auth);
    expect(await answered(first)).toEqual({ received: 1 });
    await consumeEvents(first.sent, webhooks.queue);
    expect(webhooks.sent).toHaveLength(1);

    // The tenant lifts the suppression; then someone replays the captured request (herald cannot
    // tell: Basic auth is all Postmark offers) and it is accepted...
    expect((await call(`/v1/suppressions/${encodeURIComponent(to)}`, { method: "DELETE", token: apiKey })).status).toBe(204);
    const replay = await deliver(id, body, auth);
    expect(await answered(replay)).toEqual({ received: 1 });
    await consumeEvents(replay.sent, webhooks.queue);

    // ...but changes nothing: still one event, no new suppression, no second webhook.
    const rows = await withDb(
      async (db) =>
        (await db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM events WHERE tenant_id = ${tenantId} AND email = ${to}`)).rows,
    );
    expect(rows[0]!.n).toBe(1);
    expect((await call(`/v1/suppressions/${encodeURIComponent(to)}`, { token: apiKey })).status).toBe(404);
    expect(webhooks.sent).toHaveLength(1);
  });
});
