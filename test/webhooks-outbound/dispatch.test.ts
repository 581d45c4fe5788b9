import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { webhookDeliveries } from "../../src/db/schema";
import { withDb as rows, call, newTenant } from "../helpers";
import { type Delivery, createEndpoint, deliveriesOf, json } from "./helpers";
import { captureQueue, dispatch, event } from "./queue";

describe("dispatchWebhooks", () => {
  it("creates deliveries only for enabled endpoints subscribed to each event, once per event", async () => {
    const { apiKey, tenantId } = await newTenant();
    const other = await newTenant();
    const all = await createEndpoint(apiKey, { url: "https://example.com/all" });
    const delivered = await createEndpoint(apiKey, { url: "https://example.com/delivered", event_types: ["email.delivered"] });
    const opened = await createEndpoint(apiKey, { url: "https://example.com/opened", event_types: ["email.opened", "email.bounced"] });
    const disabled = await createEndpoint(apiKey, { url: "https://example.com/off", enabled: false });
    const strangers = await createEndpoint(other.apiKey, { url: "https://example.com/theirs" });

    const events = [
      event(tenantId, "delivered"),
      event(tenantId, "opened"),
      event(tenantId, "clicked", { url: "https://shop.example/x", data: { user_agent: "UA", email: "spoof@example.test" } }),
    ];
    const q = captureQueue();
    // Another tenant's event in the list is ignored: the dispatcher only works for the tenant it is given.
    await dispatch(tenantId, [...events, event(other.tenantId, "delivered")], q.queue);

    const logged = async (id: string) => (await deliveriesOf(apiKey, id)).data;
    expect((await logged(all.id)).map((d) => d.event_type).sort()).toEqual(["email.clicked", "email.delivered", "email.opened"]);
    expect((await logged(delivered.id)).map((d) => d.event_id)).toEqual([events[0]!.id]);
    expect((await logged(opened.id)).map((d) => d.event_id)).toEqual([events[1]!.id]);
    expect(await logged(disabled.id)).toEqual([]);
    expect((await deliveriesOf(other.apiKey, strangers.id)).data).toEqual([]);

    // Every delivery created was queued, in one sendBatch, with the tenant on each message.
    const created = [...(await logged(all.id)), ...(await logged(delivered.id)), ...(await logged(opened.id))];
    expect(q.calls).toHaveLength(1);
    expect(
      q
        .bodies()
        .map((b) => b.delivery_id)
        .sort(),
    ).toEqual(created.map((d) => d.id).sort());
    expect(q.bodies().every((b) => b.type === "webhook_delivery" && b.tenant_id === tenantId)).toBe(true);
    expect(created.every((d) => d.status === "pending" && d.attempts === 0)).toBe(true);

    // The payload: {id, type, created_at, data} with the event's identifiers, which its data cannot override.
    const click = (await logged(all.id)).find((d) => d.event_type === "email.clicked")!;
    const full = await json<Delivery>(await call(`/v1/webhooks/${all.id}/deliveries/${click.id}`, { token: apiKey }), 200);
    expect(full.payload).toEqual({
      id: events[2]!.id,
      type: "email.clicked",
      created_at: "2026-11-22T10:00:00.000Z",
      data: {
        message_id: events[2]!.messageId,
        campaign_id: events[2]!.campaignId,
        email: "ada@example.test",
        url: "https://shop.example/x",
        user_agent: "UA",
      },
    });
    const open = (await logged(all.id)).find((d) => d.event_type === "email.opened")!;
    const openFull = await json<Delivery>(await call(`/v1/webhooks/${all.id}/deliveries/${open.id}`, { token: apiKey }), 200);
    expect(openFull.payload!.data).not.toHaveProperty("url");

    // The same events again (a redelivered events batch): nothing new is created or queued.
    const again = captureQueue();
    await dispatch(tenantId, events, again.queue);
    expect(again.calls).toEqual([]);
    expect(await logged(all.id)).toHaveLength(3);
  });

  it("queues at most 100 messages per sendBatch call", async () => {
    const { apiKey, tenantId } = await newTenant();
    const endpoint = await createEndpoint(apiKey, { url: "https://example.com/many" });
    const q = captureQueue();
    await dispatch(
      tenantId,
      Array.from({ length: 150 }, () => event(tenantId, "sent")),
      q.queue,
    );
    expect(q.calls.map((c) => c.length)).toEqual([100, 50]);
    const count = await rows(
      async (db) => (await db.select().from(webhookDeliveries).where(eq(webhookDeliveries.endpointId, endpoint.id))).length,
    );
    expect(count).toBe(150);
  });

  it("deliveries it could not queue roll back with the events' transaction, so the events' retry queues them", async () => {
    const { apiKey, tenantId } = await newTenant();
    const endpoint = await createEndpoint(apiKey, { url: "https://example.com/x" });
    const events = [event(tenantId, "bounced")];
    await expect(dispatch(tenantId, events, captureQueue(true).queue)).rejects.toThrow("queue unavailable");
    expect((await deliveriesOf(apiKey, endpoint.id)).data).toEqual([]);
    const q = captureQueue();
    await dispatch(tenantId, events, q.queue);
    expect(q.bodies()).toHaveLength(1);
    expect((await deliveriesOf(apiKey, endpoint.id)).data).toHaveLength(1);
  });

  it("does nothing for a tenant without endpoints", async () => {
    const { tenantId } = await newTenant();
    const q = captureQueue();
    await dispatch(tenantId, [event(tenantId, "sent")], q.queue);
    await dispatch(tenantId, [], q.queue);
    expect(q.calls).toEqual([]);
  });
});
