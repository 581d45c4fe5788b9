// What each HTTP adapter must send and how it must read its provider's answers: one case per provider,
// run by http-adapters.test.ts and drawn on by http-adapter-edge-cases.test.ts.
import { expect } from "vitest";
import type { ProviderKind } from "../../src/db/schema";
import type { OutboundEmail } from "../../src/providers/types";
import type { ProviderStubInfo } from "../setup/provider-stubs";
import type { Captured } from "./helpers";

export type Settings = Record<string, unknown>;

export interface Case {
  kind: ProviderKind;
  config: (s: ProviderStubInfo) => Settings;
  credentials: (s: ProviderStubInfo) => Settings;
  wrongCredentials: Settings;
  /** Asserts the request the stand-in captured for `e` carries what the provider documents. */
  checkRequest: (req: Captured, e: OutboundEmail, s: ProviderStubInfo) => void;
  /**
   * How each 5xx reads (docs/decisions.md, "Ambiguous provider answers"): "unavailable" when the
   * provider says it took nothing, "ambiguous" when it may have acted.
   */
  serverErrors: Record<500 | 502 | 503 | 504, "unavailable" | "ambiguous">;
  /** A success status whose body is not the documented answer: ambiguous, unless the status alone is the answer. */
  garbled200: "ambiguous" | "accepted";
}

/** The parts of the captured request bodies that the checks below look into. */
interface ResendEmail {
  to: string[];
}
interface PostmarkMessage {
  To: string;
  Headers: unknown;
  Metadata: unknown;
}
interface SendgridMail {
  subject?: unknown;
  personalizations: { to: { email: string }[] }[];
}

export const CASES: Case[] = [
  {
    kind: "resend",
    config: (s) => ({ base_url: s.resend.baseUrl }),
    credentials: (s) => ({ api_key: s.resend.apiKey }),
    wrongCredentials: { api_key: "re_wrong" },
    serverErrors: { 500: "unavailable", 502: "ambiguous", 503: "unavailable", 504: "ambiguous" },
    garbled200: "ambiguous",
    checkRequest(req, e, s) {
      expect(req.path).toBe("/resend/emails/batch");
      expect(req.headers.authorization).toBe(`Bearer ${s.resend.apiKey}`);
      expect(req.headers["x-batch-validation"]).toBe("permissive");
      expect(req.headers["idempotency-key"]).toMatch(/^herald-[0-9a-f]{64}$/);
      const item = (req.body as ResendEmail[]).find((m) => m.to.includes(e.to[0]!))!;
      expect(item).toEqual({
        from: e.from,
        to: e.to,
        reply_to: e.replyTo,
        subject: e.subject,
        html: e.html,
        text: e.text,
        headers: e.headers,
        tags: [{ name: "herald_id", value: e.id }],
      });
    },
  },
  {
    kind: "postmark",
    config: (s) => ({ base_url: s.postmark.baseUrl, message_stream: "broadcast" }),
    credentials: (s) => ({ server_token: s.postmark.serverToken }),
    wrongCredentials: { server_token: "wrong-token" },
    serverErrors: { 500: "ambiguous", 502: "ambiguous", 503: "unavailable", 504: "ambiguous" },
    garbled200: "ambiguous",
    checkRequest(req, e, s) {
      expect(req.path).toBe("/postmark/email/batch");
      expect(req.headers["x-postmark-server-token"]).toBe(s.postmark.serverToken);
      expect(req.headers.accept).toBe("application/json");
      const item = (req.body as PostmarkMessage[]).find((m) => m.To === e.to[0])!;
      expect(item).toMatchObject({
        From: e.from,
        ReplyTo: e.replyTo,
        Subject: e.subject,
        HtmlBody: e.html,
        TextBody: e.text,
        MessageStream: "broadcast",
      });
      expect(item.Headers).toContainEqual({ Name: "X-Herald-Campaign", Value: "c-1" });
      expect(item.Metadata).toEqual({ herald_id: e.id });
    },
  },
  {
    kind: "sendgrid",
    config: (s) => ({ base_url: s.sendgrid.baseUrl }),
    credentials: (s) => ({ api_key: s.sendgrid.apiKey }),
    wrongCredentials: { api_key: "SG.wrong" },
    serverErrors: { 500: "ambiguous", 502: "ambiguous", 503: "unavailable", 504: "ambiguous" },
    // 200 is SendGrid's sandbox answer and carries no body: the status is the whole answer.
    garbled200: "accepted",
    checkRequest(req, e, s) {
      expect(req.path).toBe("/sendgrid/v3/mail/send");
      expect(req.headers.authorization).toBe(`Bearer ${s.sendgrid.apiKey}`);
      // Emails alike share one request, one personalization each (test/providers/multi-recipient.test.ts).
      const body = req.body as SendgridMail;
      expect(body).toMatchObject({
        from: { email: "sender@herald.test", name: "Herald Tests" },
        reply_to: { email: "help@herald.test", name: "Support" },
      });
      expect(body.subject).toBeUndefined();
      const p = body.personalizations.find((x) => x.to[0]!.email === e.to[0])!;
      expect(p).toMatchObject({ to: [{ email: e.to[0] }], subject: e.subject, headers: e.headers, custom_args: { herald_id: e.id } });
      const got = req.delivered!.find((d) => d.to.includes(e.to[0]!))!;
      expect(got).toEqual({
        to: e.to,
        cc: [],
        bcc: [],
        from: { email: "sender@herald.test", name: "Herald Tests" },
        replyTo: { email: "help@herald.test", name: "Support" },
        subject: e.subject,
        text: e.text,
        html: e.html,
        headers: e.headers,
        customArgs: { herald_id: e.id },
      });
    },
  },
  {
    kind: "mailgun",
    config: (s) => ({ domain: s.mailgun.domain, base_url: s.mailgun.baseUrl }),
    credentials: (s) => ({ api_key: s.mailgun.apiKey }),
    wrongCredentials: { api_key: "key-wrong" },
    serverErrors: { 500: "unavailable", 502: "ambiguous", 503: "unavailable", 504: "ambiguous" },
    garbled200: "ambiguous",
    checkRequest(req, e, s) {
      expect(req.path).toBe(`/mailgun/v3/${s.mailgun.domain}/messages`);
      expect(req.headers.authorization).toBe(`Basic ${btoa(`api:${s.mailgun.apiKey}`)}`);
      expect(req.headers["content-type"]).toMatch(/^multipart\/form-data; ?boundary=/);
      expect(req.body).toMatchObject({
        from: [e.from],
        to: e.to,
        subject: [e.subject],
        html: [e.html],
        text: [e.text],
        "h:Reply-To": [e.replyTo],
        "h:X-Herald-Campaign": ["c-1"],
        "v:herald_id": [e.id],
      });
    },
  },
  {
    kind: "ses",
    config: (s) => ({ region: s.ses.region, base_url: s.ses.baseUrl, configuration_set: "herald" }),
    credentials: (s) => ({ access_key_id: s.ses.accessKeyId, secret_access_key: s.ses.secretAccessKey, session_token: s.ses.sessionToken }),
    wrongCredentials: {
      access_key_id: "AKIAHERALDTEST0001",
      secret_access_key: "not-the-right-secret-key",
      session_token: "herald-test-session-token",
    },
    serverErrors: { 500: "ambiguous", 502: "ambiguous", 503: "unavailable", 504: "ambiguous" },
    garbled200: "ambiguous",
    checkRequest(req, e, s) {
      expect(req.path).toBe("/ses/v2/email/outbound-emails");
      expect(req.headers.authorization).toMatch(
        new RegExp(
          `^AWS4-HMAC-SHA256 Credential=${s.ses.accessKeyId}/\\d{8}/${s.ses.region}/ses/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$`,
        ),
      );
      expect(req.headers["x-amz-security-token"]).toBe(s.ses.sessionToken);
      expect(req.body).toEqual({
        FromEmailAddress: e.from,
        Destination: { ToAddresses: e.to },
        ReplyToAddresses: [e.replyTo],
        Content: {
          Simple: {
            Subject: { Data: e.subject, Charset: "UTF-8" },
            Body: { Html: { Data: e.html, Charset: "UTF-8" }, Text: { Data: e.text, Charset: "UTF-8" } },
            Headers: Object.entries(e.headers).map(([Name, Value]) => ({ Name, Value })),
          },
        },
        ConfigurationSetName: "herald",
        EmailTags: [{ Name: "herald_id", Value: e.id }],
      });
    },
  },
];
