import { describe, expect, it } from "vitest";
import type { InboundProviderKind, InboundSecrets } from "../../src/webhooks/inbound";
import { request, svixSecret } from "../inbound-signers";
import { NOW_S, verify } from "./helpers";

describe("verifyInbound", () => {
  it("rejects unknown providers, including prototype keys", async () => {
    for (const kind of ["smtp", "__proto__", "toString", "constructor"]) {
      expect(await verify(kind as InboundProviderKind, request("{}"), {})).toEqual({ ok: false, status: 400, reason: "unknown provider" });
    }
  });

  it("never throws on hostile input", async () => {
    const secrets: InboundSecrets = {
      sendgridPublicKey: "AAAA",
      mailgunSigningKey: "k",
      postmarkUsername: "u",
      postmarkPassword: "p",
      resendWebhookSecret: svixSecret(),
    };
    const bodies = [
      "",
      "null",
      "0",
      '"x"',
      "[]",
      "{}",
      "[null]",
      '{"signature":[],"event-data":1}',
      '{"Type":"Notification","Message":{}}',
      "\u0000\uffff",
    ];
    const headerSets: Record<string, string>[] = [
      {},
      { "x-twilio-email-event-webhook-signature": "MAA=", "x-twilio-email-event-webhook-timestamp": String(NOW_S) },
      { "svix-id": "a", "svix-timestamp": String(NOW_S), "svix-signature": "v1 v1, ,,, v1,!!" },
      { authorization: "Basic " },
    ];
    for (const kind of ["ses", "sendgrid", "mailgun", "postmark", "resend"] as const) {
      for (const body of bodies) {
        for (const headers of headerSets) {
          const result = await verify(kind, request(body, headers), secrets);
          expect(result.ok, `${kind} ${body}`).toBe(false);
          if (!result.ok) expect([400, 401]).toContain(result.status);
        }
      }
    }
  });
});
