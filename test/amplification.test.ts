// Bounded amplification behind the tracking endpoints: /t/o and /t/c always answer, but the events
// they record are capped per message per minute (at the edge and where events are stored), and the
// outbound open/click webhooks of one message are coalesced per hour. Time is driven by the events'
// own timestamps and, at the edge, by a faked Date; the consumers run through the worker's queue export.
import { env } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { EventMessage } from "../src/events/message";
import { TRACKING_EVENTS_PER_MINUTE } from "../src/events/tracking-cap";
import { uuidv7 } from "../src/lib/ids";
import { signToken } from "../src/tracking/token";
import { CLICKED_URLS_PER_WINDOW, COALESCE_WINDOW_SECONDS } from "../src/webhooks/outbound/dispatch";
import { call, newTenant, withDb } from "./helpers";
import { consumeEvents, recordingQueue } from "./inbound-helpers";

const RECEIVER = (env as Env & { TEST_WEBHOOK_URL: string }).TEST_WEBHOOK_URL;
const MINUTE = 60_000;
const HOUR = 3_600_000;

function tracked(tenantId: string, messageId: string, type: "opened" | "clicked", at: number, url?: string): EventMessage {
  return {
    type: "event",
    tenant_id: tenantId,
    event: { type, source: "tracking", message_id: messageId, ...(url ? { url } : {}), occurred_at: new Date(at).toISOString() },
  };
}

const storedEvents = (tenantId: string, messageId: string) =>
  withDb(
    async (db) =>
      (
        await db.execute<{ type: string; url: string | null; ms: number }>(sql`
      SELECT type, url, (extract(epoch FROM occurred_at) * 1000)::float8 AS ms
      FROM events WHERE tenant_id = ${tenantId} AND message_id = ${messageId} ORDER BY occurred_at`)
      ).rows,
  );

const deliveries = (tenantId: string) =>
  withDb(
    async (db) =>
      (
        await db.execute<{ event_type: string; url: string | null; created_at: string }>(sql`
      SELECT event_type, payload->'data'->>'url' AS url, payload->>'created_at' AS created_at
      FROM webhook_deliveries WHERE tenant_id = ${tenantId} ORDER BY payload->>'created_at', id`)
      ).rows,
  );

/** A whole hour a few hours back, so every event in it is in the past. */
const pastHour = () => Math.floor(Date.now() / HOUR) * HOUR - 3 * HOUR;

afterEach(() => {
  vi.useRealTimers();
});

describe("tracking endpoints under a flood", () => {
  it("500 hits on one open pixel answer 200 every time and queue at most 5 opens a minute", async () => {
    const { tenantId } = await newTenant();
    const messageId = uuidv7();
    const token = await signToken(env.TRACKING_SECRET, { k: "o", t: tenantId, m: messageId });
    const events = recordingQueue<EventMessage>();
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Math.floor(Date.now() / MINUTE) * MINUTE + 1000);

    for (let i = 0; i < 500; i++) {
      const res = await call(`/t/o/${token}`, { env: { EVENTS_QUEUE: events.queue } });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("image/gif");
      expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(0);
    }
    expect(TRACKING_EVENTS_PER_MINUTE).toBe(5);
    expect(events.sent).toHaveLength(5);
    expect(events.sent.every((m) => m.tenant_id === tenantId && m.event.type === "opened" && m.event.message_id === messageId)).toBe(true);

    // The cap is per minute: the next minute records again.
    vi.setSystemTime(Date.now() + MINUTE);
    for (let i = 0; i < 20; i++) expect((await call(`/t/o/${token}`, { env: { EVENTS_QUEUE: events.queue } })).status).toBe(200);
    expect(events.sent).toHaveLength(10);
  });

  it("500 hits on one tracked link redirect every time and queue at most 5 clicks a minute", async () => {
    const { tenantId } = await newTenant();
    const messageId = uuidv7();
    const token = await signToken(env.TRACKING_SECRET, { k: "c", t: tenantId, m: messageId, u: "https://example.com/offer" });
    const events = recordingQueue<EventMessage>();
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Math.floor(Date.now() / MINUTE) * MINUTE + 1000);

    for (let i = 0; i < 500; i++) {
      const res = await call(`/t/c/${token}`, { redirect: "manual", env: { EVENTS_QUEUE: events.queue } });
      expect(res.status).toBe(302);
      expect(res.headers.get("location")).toBe("https://example.com/offer");
    }
    expect(events.sent).toHaveLength(5);
    expect(events.sent.every((m) => m.event.type === "clicked")).toBe(true);
  });

  it("the events consumer stores at most 5 tracking opens and 5 clicks per message a minute, however many isolates queued them", async () => {
    const { tenantId } = await newTenant();
    const messageId = uuidv7();
    const other = uuidv7();
    const hour = pastHour();
    const webhooks = recordingQueue();
    // 500 opens and 500 clicks in one minute, as 100 edge isolates would each let 5 through: some
    // batches in turn, some at once (consumers racing for the same slots).
    const opens = Array.from({ length: 500 }, (_, i) => tracked(tenantId, messageId, "opened", hour + 1000 + i * 10));
    const clicks = Array.from({ length: 500 }, (_, i) =>
      tracked(tenantId, messageId, "clicked", hour + 2000 + i * 10, `https://example.com/${i % 7}`),
    );
    await consumeEvents([...opens.slice(0, 100), ...clicks.slice(0, 100)], webhooks.queue);
    await consumeEvents([...opens.slice(100, 200), ...clicks.slice(100, 200)], webhooks.queue);
    await Promise.all(
      [200, 300, 400].map((at) => consumeEvents([...opens.slice(at, at + 100), ...clicks.slice(at, at + 100)], webhooks.queue)),
    );
    // Another message, and the same message a minute later, each have their own allowance.
    await consumeEvents(
      [tracked(tenantId, other, "opened", hour + 5000), tracked(tenantId, messageId, "opened", hour + MINUTE + 1000)],
      webhooks.queue,
    );

    const rows = await storedEvents(tenantId, messageId);
    const inFirstMinute = rows.filter((r) => r.ms < hour + MINUTE);
    expect(inFirstMinute.filter((r) => r.type === "opened")).toHaveLength(5);
    expect(inFirstMinute.filter((r) => r.type === "clicked")).toHaveLength(5);
    // The first open of the minute is among those kept (a unique open is never lost to the cap).
    expect(rows[0]!.ms).toBe(hour + 1000);
    expect(rows.filter((r) => r.ms >= hour + MINUTE)).toHaveLength(1);
    expect(await storedEvents(tenantId, other)).toHaveLength(1);
  });

  it("events from providers are not capped: each provider event is stored once, as before", async () => {
    const { tenantId } = await newTenant();
    const messageId = uuidv7();
    const at = pastHour() + 1000;
    const bodies: EventMessage[] = Array.from({ length: 12 }, (_, i) => ({
      type: "event",
      tenant_id: tenantId,
      event: {
        type: "opened",
        source: "mailgun",
        provider_event_id: `mg-${i}`,
        message_id: messageId,
        occurred_at: new Date(at + i).toISOString(),
      },
    }));
    await consumeEvents(bodies, recordingQueue().queue);
    await consumeEvents(bodies, recordingQueue().queue);
    expect(await storedEvents(tenantId, messageId)).toHaveLength(12);
  });
});

describe("outbound webhooks for opens and clicks", () => {
  it("a scanner opening and clicking one message hundreds of times in an hour makes one email.opened webhook and one email.clicked per URL, at most 5 URLs", async () => {
    const { apiKey, tenantId } = await newTenant();
    const created = await call("/v1/webhooks", {
      method: "POST",
      token: apiKey,
      json: { url: `${RECEIVER}/hook?tag=amp-${crypto.randomUUID()}` },
    });
    expect(created.status, await created.clone().text()).toBe(201);
    const messageId = uuidv7();
    const hour = pastHour();
    const webhooks = recordingQueue<{ delivery_id: string }>();

    // 40 minutes of 5 opens and 5 clicks each (what the tracking cap lets through), the clicks over
    // 8 distinct links; some batches race each other.
    const minutes = Array.from({ length: 40 }, (_, m) => [
      ...Array.from({ length: 5 }, (_, i) => tracked(tenantId, messageId, "opened", hour + m * MINUTE + i * 100)),
      ...Array.from({ length: 5 }, (_, i) =>
        tracked(tenantId, messageId, "clicked", hour + m * MINUTE + 600 + i * 100, `https://example.com/link-${(m * 5 + i) % 8}`),
      ),
    ]);
    for (let m = 0; m < 40; m += 4) await Promise.all(minutes.slice(m, m + 4).map((events) => consumeEvents(events, webhooks.queue)));

    const rows = await storedEvents(tenantId, messageId);
    expect(rows.filter((r) => r.type === "opened")).toHaveLength(200);
    expect(rows.filter((r) => r.type === "clicked")).toHaveLength(200);

    expect(COALESCE_WINDOW_SECONDS).toBe(3600);
    expect(CLICKED_URLS_PER_WINDOW).toBe(5);
    const sent = await deliveries(tenantId);
    expect(sent.filter((d) => d.event_type === "email.opened")).toHaveLength(1);
    const clicked = sent.filter((d) => d.event_type === "email.clicked");
    expect(clicked).toHaveLength(5);
    expect(new Set(clicked.map((d) => d.url)).size).toBe(5);
    expect(webhooks.sent).toHaveLength(6);

    // The next hour is a new window: one more open webhook, and a link already reported gets one again.
    await consumeEvents(
      [
        tracked(tenantId, messageId, "opened", hour + HOUR + 1000),
        tracked(tenantId, messageId, "opened", hour + HOUR + 2000),
        tracked(tenantId, messageId, "clicked", hour + HOUR + 3000, clicked[0]!.url!),
      ],
      webhooks.queue,
    );
    const after = await deliveries(tenantId);
    expect(after.filter((d) => d.event_type === "email.opened")).toHaveLength(2);
    expect(after.filter((d) => d.event_type === "email.clicked")).toHaveLength(6);
    expect(webhooks.sent).toHaveLength(8);
  });

  it("other events are never coalesced: every delivery of a message gets its webhook", async () => {
    const { apiKey, tenantId } = await newTenant();
    const created = await call("/v1/webhooks", {
      method: "POST",
      token: apiKey,
      json: { url: `${RECEIVER}/hook?tag=amp-${crypto.randomUUID()}` },
    });
    expect(created.status).toBe(201);
    const messageId = uuidv7();
    const at = pastHour();
    const bodies: EventMessage[] = ["delivered", "bounced", "complained"].map((type, i) => ({
      type: "event",
      tenant_id: tenantId,
      event: {
        type: type as "delivered",
        source: "mailgun",
        provider_event_id: `mg-${type}`,
        message_id: messageId,
        occurred_at: new Date(at + i).toISOString(),
      },
    }));
    await consumeEvents(bodies, recordingQueue().queue);
    expect((await deliveries(tenantId)).map((d) => d.event_type).sort()).toEqual(["email.bounced", "email.complained", "email.delivered"]);
  });
});
