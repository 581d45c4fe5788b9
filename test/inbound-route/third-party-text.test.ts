import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { deliver } from "../inbound-helpers";
import { mailgunSignature } from "../inbound-signers";
import { nowSeconds, withDb } from "../helpers";
import { mailgunProvider } from "./helpers";

describe("third-party text", () => {
  it("a signed Mailgun payload with lone surrogates stores fine: U+FFFD in their place, clipped by code points", async () => {
    const { tenantId, signingKey, id } = await mailgunProvider();
    const uuid = crypto.randomUUID();
    // JSON escapes: the text is valid UTF-8, and JSON.parse turns "\ud800" into a lone surrogate.
    const body =
      `{"signature":${JSON.stringify(await mailgunSignature(signingKey, nowSeconds()))},"event-data":{"id":"mg-\\ud800-${uuid}","event":"failed","severity":"permanent",` +
      `"reason":"\\udc00${"\\ud83d\\ude00".repeat(60)}","recipient":"Lone\\ud800@Example.test","timestamp":${nowSeconds()},` +
      `"message":{"headers":{"message-id":"mid-\\udfff"}}}}`;
    const { res, sent } = await deliver(id, body);
    expect(await res.json()).toEqual({ received: 1 });

    const batch = createMessageBatch(
      "herald-events",
      sent.map((m, i) => ({ id: `s${i}`, timestamp: new Date(), attempts: 1, body: m })),
    );
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks).toEqual(["s0"]);

    const rows = await withDb(
      async (db) =>
        (
          await db.execute<{
            email: string;
            provider_event_id: string;
            data: { provider_message_id: string; details: { reason: string } };
          }>(sql`
        SELECT email, provider_event_id, data FROM events WHERE tenant_id = ${tenantId}`)
        ).rows,
    );
    expect(rows).toHaveLength(1);
    const [row] = rows;
    expect(row!.email).toBe("lone\ufffd@example.test");
    expect(row!.provider_event_id).toBe(`mg-\ufffd-${uuid}`);
    expect(row!.data.provider_message_id).toBe("mid-\ufffd");
    // Mailgun's reason is kept to 50 code points: the pair after the cut is dropped whole, not halved.
    expect(row!.data.details.reason).toBe(`\ufffd${"\ud83d\ude00".repeat(48)}…`);
    expect(row!.data.details.reason.isWellFormed()).toBe(true);
  });
});
