import { describe, expect, it } from "vitest";
import { uuidv7 } from "../../src/lib/ids";
import { toEventInputs } from "../../src/routes/v1/inbound";

describe("toEventInputs", () => {
  it("maps verified provider events to events-queue inputs", () => {
    const heraldId = uuidv7();
    expect(
      toEventInputs("sendgrid", [
        {
          providerEventId: "sg-1",
          type: "clicked",
          heraldMessageId: heraldId.toUpperCase(),
          providerMessageId: "sg-msg",
          email: " Eve@Example.COM ",
          occurredAt: "2025-06-01T12:00:00.000Z",
          url: "https://example.com/x",
        },
        {
          providerEventId: "sg-2",
          type: "bounced",
          heraldMessageId: "msg_123",
          occurredAt: "2025-06-01T12:00:00.000Z",
          bounceType: "soft",
          raw: { type: "blocked" },
        },
        {
          providerEventId: "x".repeat(600),
          type: "delivered",
          email: `${"a".repeat(400)}@example.com`,
          url: "u",
          occurredAt: "2025-06-01T12:00:00.000Z",
        },
        { providerEventId: "bad-date", type: "opened", occurredAt: "yesterday" },
      ]),
    ).toEqual([
      {
        type: "clicked",
        message_id: heraldId,
        email: "eve@example.com",
        source: "sendgrid",
        provider_event_id: "sg-1",
        url: "https://example.com/x",
        occurred_at: "2025-06-01T12:00:00.000Z",
        data: { provider_message_id: "sg-msg" },
      },
      {
        type: "bounced",
        source: "sendgrid",
        provider_event_id: "sg-2",
        occurred_at: "2025-06-01T12:00:00.000Z",
        bounce_type: "soft",
        data: { details: { type: "blocked" } },
      },
      {
        type: "delivered",
        source: "sendgrid",
        provider_event_id: "x".repeat(512),
        url: "u",
        occurred_at: "2025-06-01T12:00:00.000Z",
        data: {},
      },
    ]);
  });
});
