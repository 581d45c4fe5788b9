import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { events, type EventType } from "../src/db/events-table";
import { campaigns } from "../src/db/schema";
import { uuidv7 } from "../src/lib/ids";
import { audience, campaign, sinkProvider, tag, template } from "./campaign-helpers";
import { withDb, call, expectProblem, newTenant } from "./helpers";

async function draftCampaign(apiKey: string): Promise<string> {
  const t = tag();
  const list = await audience(apiKey, t, 1);
  return campaign(apiKey, { templateId: await template(apiKey), listIds: [list.listId], providerIds: [await sinkProvider(apiKey)] });
}

async function setSent(campaignId: string, sent: number) {
  await withDb((db) => db.update(campaigns).set({ sent }).where(eq(campaigns.id, campaignId)));
}

interface Ev {
  type: EventType;
  messageId?: string | null;
  email?: string | null;
  campaignId?: string | null;
  occurredAt?: Date;
}

/** Inserts event rows as the events consumer would store them (month = first day of occurred_at's month). */
async function insertEvents(tenantId: string, campaignId: string, list: Ev[]) {
  await withDb((db) =>
    db.insert(events).values(
      list.map((e) => {
        const at = e.occurredAt ?? new Date();
        return {
          month: `${at.toISOString().slice(0, 7)}-01`,
          id: crypto.randomUUID(),
          tenantId,
          type: e.type,
          messageId: e.messageId ?? null,
          campaignId: e.campaignId === undefined ? campaignId : e.campaignId,
          email: e.email ?? null,
          source: "tracking",
          data: {},
          occurredAt: at,
        };
      }),
    ),
  );
}

async function stats(apiKey: string, id: string) {
  const res = await call(`/v1/campaigns/${id}/stats`, { token: apiKey });
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return JSON.parse(text) as Record<string, unknown> & { rates: Record<string, number> };
}

describe("GET /v1/campaigns/:id/stats", () => {
  it("is in the OpenAPI document", async () => {
    const doc = (await (await call("/openapi.json")).json()) as { paths: Record<string, Record<string, unknown>> };
    expect(doc.paths["/v1/campaigns/{id}/stats"]?.get).toBeDefined();
  });

  it("is all zeros for a campaign that sent nothing", async () => {
    const { apiKey } = await newTenant();
    const id = await draftCampaign(apiKey);
    expect(await stats(apiKey, id)).toEqual({
      campaign_id: id,
      sent: 0,
      unknown: 0,
      delivered: 0,
      opened: 0,
      clicked: 0,
      bounced: 0,
      complained: 0,
      unsubscribed: 0,
      rates: { delivered: 0, opened: 0, clicked: 0, bounced: 0, complained: 0, unsubscribed: 0 },
    });
  });

  it("counts each message once per kind, and rates against sent", async () => {
    const { apiKey, tenantId } = await newTenant();
    const id = await draftCampaign(apiKey);
    const otherCampaign = await draftCampaign(apiKey);
    await setSent(id, 8);
    const [m1, m2, m3, m4, m5] = Array.from({ length: 5 }, () => uuidv7());
    const lastMonth = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth() - 1, 15));
    await insertEvents(tenantId, id, [
      { type: "sent", messageId: m1 },
      { type: "delivered", messageId: m1 },
      { type: "delivered", messageId: m2 },
      { type: "delivered", messageId: m3, occurredAt: lastMonth }, // another partition
      { type: "delivered", messageId: m3 }, // delivered twice: counted once
      { type: "opened", messageId: m1 },
      { type: "opened", messageId: m1 },
      { type: "opened", messageId: m1 },
      { type: "opened", messageId: m2 },
      { type: "clicked", messageId: m1 },
      { type: "clicked", messageId: m1 },
      { type: "bounced", messageId: m4 },
      { type: "complained", messageId: m2 },
      { type: "unsubscribed", messageId: m1, email: "u1@example.com" },
      { type: "unsubscribed", messageId: m1, email: "u1@example.com" },
      { type: "unsubscribed", messageId: null, email: "u2@example.com" },
      { type: "unsubscribed", messageId: null, email: "u2@example.com" },
      { type: "unsubscribed", messageId: null, email: "u3@example.com" },
      { type: "failed", messageId: m5 },
      // Someone else's: another campaign, and events with no campaign at all.
      { type: "opened", messageId: m5, campaignId: otherCampaign },
      { type: "opened", messageId: m4, campaignId: null },
    ]);
    expect(await stats(apiKey, id)).toEqual({
      campaign_id: id,
      sent: 8,
      unknown: 0,
      delivered: 3,
      opened: 2,
      clicked: 1,
      bounced: 1,
      complained: 1,
      unsubscribed: 3,
      rates: { delivered: 0.375, opened: 0.25, clicked: 0.125, bounced: 0.125, complained: 0.125, unsubscribed: 0.375 },
    });
    expect((await stats(apiKey, otherCampaign)).opened).toBe(1);
  });

  it("rounds rates to four decimals", async () => {
    const { apiKey, tenantId } = await newTenant();
    const id = await draftCampaign(apiKey);
    await setSent(id, 3);
    await insertEvents(tenantId, id, [
      { type: "delivered", messageId: uuidv7() },
      { type: "delivered", messageId: uuidv7() },
      { type: "opened", messageId: uuidv7() },
    ]);
    const s = await stats(apiKey, id);
    expect(s.rates.delivered).toBe(0.6667);
    expect(s.rates.opened).toBe(0.3333);
  });

  it("is a 404 for another tenant's campaign (whose events it never counts) or a malformed id", async () => {
    const owner = await newTenant();
    const other = await newTenant();
    const id = await draftCampaign(owner.apiKey);
    await setSent(id, 2);
    // Events filed under the owner's campaign id but the other tenant: not the owner's.
    await insertEvents(other.tenantId, id, [{ type: "opened", messageId: uuidv7() }]);
    expect((await stats(owner.apiKey, id)).opened).toBe(0);
    await expectProblem(await call(`/v1/campaigns/${id}/stats`, { token: other.apiKey }), 404, "not_found");
    await expectProblem(await call(`/v1/campaigns/${uuidv7()}/stats`, { token: owner.apiKey }), 404, "not_found");
    await expectProblem(await call("/v1/campaigns/not-a-uuid/stats", { token: owner.apiKey }), 404, "not_found");
    await expectProblem(await call(`/v1/campaigns/${id}/stats`), 401, "unauthorized");
  });

  it("needs campaigns:read", async () => {
    const { apiKey } = await newTenant();
    const id = await draftCampaign(apiKey);
    const res = await call("/v1/api-keys", { method: "POST", token: apiKey, json: { name: "c", scopes: ["contacts:read"] } });
    const { key } = (await res.json()) as { key: string };
    await expectProblem(await call(`/v1/campaigns/${id}/stats`, { token: key }), 403, "forbidden");
    const reader = (await (
      await call("/v1/api-keys", { method: "POST", token: apiKey, json: { name: "r", scopes: ["campaigns:read"] } })
    ).json()) as { key: string };
    expect((await call(`/v1/campaigns/${id}/stats`, { token: reader.key })).status).toBe(200);
  });
});
