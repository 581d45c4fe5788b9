// The send consumer invoked directly on a campaign put in `sending` by hand, for the cases the
// end-to-end runs cannot steer: duplicate deliveries, 429s and 5xxs, an open breaker, the
// dead-letter queue and a paused campaign.
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { BREAKER_THRESHOLD } from "../durable-objects/provider-limiter";
import type { SendMessage } from "../src/campaigns/queue-messages";
import worker from "../src/index";
import { limiterStub } from "../src/services/durable-objects";
import { done, expectEachOnce, post, query, receivedBy, sendingByHand, sinkCampaign, waitFor } from "./campaign-helpers";

describe("send consumer edge cases (invoked directly)", () => {
  /** A campaign to `n` contacts through a sink provider for each path, in `sending` with no fan-out queued; `body` is its one send message. */
  async function launchedCampaign(n: number, providerPaths: string[] = ["/"]) {
    const { apiKey, tenantId, t, a, id, providerIds } = await sinkCampaign(
      n,
      undefined,
      providerPaths.map((path) => ({ path })),
    );
    const [body, ...more] = await sendingByHand(tenantId, id);
    expect(more, "one send message holds at most 100 recipients").toEqual([]);
    return { apiKey, id, t, body: body!, providers: providerIds, emails: a.emails };
  }

  async function deliver(queue: string, bodies: SendMessage[]) {
    const batch = createMessageBatch(
      queue,
      bodies.map((body, i) => ({ id: `m${i}`, timestamp: new Date(), attempts: 1, body })),
    );
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    return getQueueResult(batch, ctx);
  }

  it("the same message delivered twice mails each recipient once", async () => {
    const { body, t, emails } = await launchedCampaign(40);
    const first = await deliver("herald-send", [body, body]);
    expect(first.explicitAcks.sort()).toEqual(["m0", "m1"]);
    const second = await deliver("herald-send", [body]);
    expect(second.explicitAcks).toEqual(["m0"]);
    expectEachOnce(await receivedBy(t), emails);
  });

  it("a 429 from the provider retries the message with a delay and releases its claims", async () => {
    const { body, id, t } = await launchedCampaign(5, [`/status/429/${crypto.randomUUID()}`]);
    const result = await deliver("herald-send", [body]);
    expect(result.retryMessages.map((m) => m.msgId)).toEqual(["m0"]);
    const rows = await query<{ status: string }>(sql`SELECT status FROM messages WHERE campaign_id = ${id}`);
    expect(rows.length).toBe(5);
    expect(rows.every((r) => r.status === "retrying")).toBe(true);
    expect(Object.keys(await receivedBy(t))).toEqual([]);
  });

  it("fails over to the next provider when the first one's breaker is open", async () => {
    const { body, providers, t, emails, id } = await launchedCampaign(10, [`/status/500/${crypto.randomUUID()}`, "/"]);
    const first = limiterStub(env, providers[0]!);
    for (let i = 0; i < BREAKER_THRESHOLD; i++) await first.reportResult(false);
    expect((await first.snapshot()).breaker).toBe("open");
    const result = await deliver("herald-send", [body]);
    expect(result.explicitAcks).toEqual(["m0"]);
    expectEachOnce(await receivedBy(t), emails);
    const used = await query<{ provider_id: string }>(sql`SELECT DISTINCT provider_id FROM messages WHERE campaign_id = ${id}`);
    expect(used.map((r) => r.provider_id)).toEqual([providers[1]]);
  });

  it("a 5xx counts toward the breaker, which opens after repeated failures", async () => {
    const { body, providers } = await launchedCampaign(3, [`/status/503/${crypto.randomUUID()}`]);
    for (let i = 0; i < BREAKER_THRESHOLD; i++) {
      const r = await deliver("herald-send", [body]);
      expect(r.retryMessages).toHaveLength(1);
    }
    expect((await limiterStub(env, providers[0]!).snapshot()).breaker).toBe("open");
    // With the breaker open the message waits: it is queued again as a new message (so waiting
    // does not use up its retries) and this delivery is acked.
    const refused = await deliver("herald-send", [body]);
    expect(refused.retryMessages).toEqual([]);
    expect(refused.explicitAcks).toEqual(["m0"]);
  });

  it("the dead-letter consumer marks every unfinished recipient failed so the campaign still ends", async () => {
    const { body, id, apiKey } = await launchedCampaign(7);
    const result = await deliver("herald-send-dlq", [body]);
    expect(result.explicitAcks).toEqual(["m0"]);
    const final = await waitFor(apiKey, id, done);
    expect(final).toMatchObject({ state: "failed", counts: { failed: 7, sent: 0 } });
    // retry-failed picks them up again and this time they go out.
    expect((await post(apiKey, id, "retry-failed")).status).toBe(202);
    const again = await waitFor(apiKey, id, done);
    expect(again).toMatchObject({ state: "completed", counts: { sent: 7, failed: 0 } });
  });

  it("sends nothing for a paused campaign", async () => {
    const { body, id, t } = await launchedCampaign(4);
    await query(sql`UPDATE campaigns SET state = 'paused' WHERE id = ${id}`);
    const result = await deliver("herald-send", [body]);
    expect(result.explicitAcks).toEqual(["m0"]);
    expect(Object.keys(await receivedBy(t))).toEqual([]);
    expect((await query(sql`SELECT 1 FROM messages WHERE campaign_id = ${id}`)).length).toBe(0);
  });
});
