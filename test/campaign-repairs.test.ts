// Repairs the cron makes to a campaign left behind by lost reports or consumers that died: the
// recount of a stalled campaign and the sweep of stale claims.
import { env } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { progressStub } from "../src/services/durable-objects";
import { cronTick, done, launch, post, progressOf, query, receivedBy, sinkCampaign, waitFor } from "./campaign-helpers";
import { expectProblem } from "./helpers";

describe("repairs", () => {
  it("the cron recounts a stalled campaign from the message log and completes it", async () => {
    const { apiKey, tenantId, id } = await sinkCampaign(3);
    await launch(apiKey, id);
    await waitFor(apiKey, id, done);
    // Simulate reports lost after their rows were committed: the campaign is stuck sending.
    await query(sql`UPDATE campaigns SET state = 'sending', updated_at = now() - interval '10 minutes' WHERE id = ${id}`);
    await progressStub(env, id).setCounts({ sent: 0, failed: 0, skipped: 0 });
    await progressStub(env, id).setState("sending");
    expect((await progressOf(apiKey, id)).queued).toBe(3);
    await cronTick();
    const final = await waitFor(apiKey, id, done);
    expect(final).toMatchObject({ state: "completed", counts: { sent: 3 } });
    expect(tenantId).toBeTruthy();
  });

  it("the sweeper settles a claim handed to a provider as unknown, never resending, and sends a claim that never reached one", async () => {
    const { apiKey, t, a, id } = await sinkCampaign(3);
    await launch(apiKey, id);
    await waitFor(apiKey, id, done);
    // Left by consumers that died 20 minutes ago: one after handing its recipient to the provider
    // (`sending`), one after claiming and before any provider call (`claimed`, and never sent).
    await query(sql`UPDATE campaigns SET state = 'sending', completed_at = NULL WHERE id = ${id}`);
    await query(
      sql`UPDATE messages SET status = 'sending', updated_at = now() - interval '20 minutes' WHERE campaign_id = ${id} AND email = ${a.emails[0]!}`,
    );
    await query(
      sql`UPDATE messages SET status = 'claimed', updated_at = now() - interval '20 minutes' WHERE campaign_id = ${id} AND email = ${a.emails[1]!}`,
    );
    await progressStub(env, id).setCounts({ sent: 1, failed: 0, skipped: 0 });
    await progressStub(env, id).setState("sending");
    await cronTick();
    const [row] = await query<{ status: string; error: string }>(
      sql`SELECT status, error FROM messages WHERE campaign_id = ${id} AND email = ${a.emails[0]!}`,
    );
    expect(row).toMatchObject({ status: "unknown" });
    expect(row!.error).toMatch(/^outcome_unknown/);
    const final = await waitFor(apiKey, id, (c) => done(c) && c.counts.sent === 2);
    expect(final).toMatchObject({ state: "completed", counts: { sent: 2, unknown: 1, failed: 0 } });
    // The released claim was sent a second time (its first claim never reached the sink); the
    // unknown one was not: it may have been delivered.
    expect(await receivedBy(t)).toEqual({ [a.emails[0]!]: 1, [a.emails[1]!]: 2, [a.emails[2]!]: 1 });
    // retry-failed leaves unknown recipients alone unless asked to risk a duplicate.
    await expectProblem(await post(apiKey, id, "retry-failed"), 409, "conflict");
    expect((await post(apiKey, id, "retry-failed?include_unknown=true")).status).toBe(202);
    const again = await waitFor(apiKey, id, (c) => done(c) && c.counts.unknown === 0);
    expect(again).toMatchObject({ state: "completed", counts: { sent: 3, unknown: 0 } });
    expect((await receivedBy(t))[a.emails[0]!]).toBe(2);
  });
});
