// resend, postmark, sendgrid, mailgun and ses, each through its Node stand-in (test/providers/stubs),
// which checks the documented request shape and answers as the provider does.
import { describe, expect, it } from "vitest";
import type { ProviderKind } from "../../src/db/schema";
import { createProvider, PartialBatchError } from "../../src/providers";
import type { OutboundEmail } from "../../src/providers/types";
import type { ProviderStubInfo } from "../setup/provider-stubs";
import { address, captured, email, failure, stubs, type Captured } from "./helpers";

type Settings = Record<string, unknown>;

interface Case {
  kind: ProviderKind;
  config: (s: ProviderStubInfo) => Settings;
  credentials: (s: ProviderStubInfo) => Settings;
  wrongCredentials: Settings;
  /** Asserts the request the stand-in captured for `e` carries what the provider documents. */
  checkRequest: (req: Captured, e: OutboundEmail, s: ProviderStubInfo) => void;
}

type Json = Record<string, any>;

const CASES: Case[] = [
  {
    kind: "resend",
    config: (s) => ({ base_url: s.resend.baseUrl }),
    credentials: (s) => ({ api_key: s.resend.apiKey }),
    wrongCredentials: { api_key: "re_wrong" },
    checkRequest(req, e, s) {
      expect(req.path).toBe("/resend/emails/batch");
      expect(req.headers.authorization).toBe(`Bearer ${s.resend.apiKey}`);
      expect(req.headers["x-batch-validation"]).toBe("permissive");
      expect(req.headers["idempotency-key"]).toMatch(/^herald-[0-9a-f]{64}$/);
      const item = (req.body as Json[]).find((m) => m.to.includes(e.to[0]))!;
      expect(item).toEqual({ from: e.from, to: e.to, reply_to: e.replyTo, subject: e.subject, html: e.html, text: e.text, headers: e.headers, tags: [{ name: "herald_id", value: e.id }] });
    },
  },
  {
    kind: "postmark",
    config: (s) => ({ base_url: s.postmark.baseUrl, message_stream: "broadcast" }),
    credentials: (s) => ({ server_token: s.postmark.serverToken }),
    wrongCredentials: { server_token: "wrong-token" },
    checkRequest(req, e, s) {
      expect(req.path).toBe("/postmark/email/batch");
      expect(req.headers["x-postmark-server-token"]).toBe(s.postmark.serverToken);
      expect(req.headers.accept).toBe("application/json");
      const item = (req.body as Json[]).find((m) => m.To === e.to[0])!;
      expect(item).toMatchObject({ From: e.from, ReplyTo: e.replyTo, Subject: e.subject, HtmlBody: e.html, TextBody: e.text, MessageStream: "broadcast" });
      expect(item.Headers).toContainEqual({ Name: "X-Herald-Campaign", Value: "c-1" });
      expect(item.Metadata).toEqual({ herald_id: e.id });
    },
  },
  {
    kind: "sendgrid",
    config: (s) => ({ base_url: s.sendgrid.baseUrl }),
    credentials: (s) => ({ api_key: s.sendgrid.apiKey }),
    wrongCredentials: { api_key: "SG.wrong" },
    checkRequest(req, e, s) {
      expect(req.path).toBe("/sendgrid/v3/mail/send");
      expect(req.headers.authorization).toBe(`Bearer ${s.sendgrid.apiKey}`);
      expect(req.body).toEqual({
        personalizations: [{ to: [{ email: e.to[0] }] }],
        from: { email: "sender@herald.test", name: "Herald Tests" },
        reply_to: { email: "help@herald.test", name: "Support" },
        subject: e.subject,
        content: [
          { type: "text/plain", value: e.text },
          { type: "text/html", value: e.html },
        ],
        headers: e.headers,
        custom_args: { herald_id: e.id },
      });
    },
  },
  {
    kind: "mailgun",
    config: (s) => ({ domain: s.mailgun.domain, base_url: s.mailgun.baseUrl }),
    credentials: (s) => ({ api_key: s.mailgun.apiKey }),
    wrongCredentials: { api_key: "key-wrong" },
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
    wrongCredentials: { access_key_id: "AKIAHERALDTEST0001", secret_access_key: "not-the-right-secret-key", session_token: "herald-test-session-token" },
    checkRequest(req, e, s) {
      expect(req.path).toBe("/ses/v2/email/outbound-emails");
      expect(req.headers.authorization).toMatch(
        new RegExp(`^AWS4-HMAC-SHA256 Credential=${s.ses.accessKeyId}/\\d{8}/${s.ses.region}/ses/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$`),
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

describe.each(CASES)("$kind adapter", (c) => {
  const s = stubs();
  const make = (config: Settings = {}, credentials = c.credentials(s)) => createProvider(c.kind, { ...c.config(s), ...config }, credentials);

  it("sends a batch and answers one accepted result per email, in order, with the provider's id", async () => {
    const batch = [email({ replyTo: "Support <help@herald.test>" }), email({ replyTo: "Support <help@herald.test>" })];
    const results = await make().send(batch);
    expect(results.map((r) => [r.id, r.status])).toEqual(batch.map((e) => [e.id, "accepted"]));
    for (const r of results) expect(r.providerMessageId).toEqual(expect.any(String));
    for (const e of batch) {
      const [req] = await captured(c.kind, e.to[0]!);
      expect(req, `the ${c.kind} stand-in saw no request for ${e.to[0]}`).toBeDefined();
      expect(req!.violations).toEqual([]);
      c.checkRequest(req!, e, s);
    }
  });

  it("rejects only the email whose recipient the provider refused", async () => {
    const batch = [email(), email({ to: [address("reject")] }), email()];
    const results = await make().send(batch);
    expect(results.map((r) => r.status)).toEqual(["accepted", "rejected", "accepted"]);
    expect(results[1]!.error).toEqual(expect.any(String));
    expect(results.map((r) => r.id)).toEqual(batch.map((e) => e.id));
  });

  it("turns a 429 into a transient rate_limited failure that honours Retry-After", async () => {
    const err = await failure(make().send([email({ to: [address("throttle")] })]));
    expect(err.kind).toBe("rate_limited");
    expect(err.retryAfterSeconds).toBe(7);
    expect(err.transient).toBe(true);
  });

  it("turns a 5xx into a transient unavailable failure", async () => {
    const err = await failure(make().send([email({ to: [address("unavailable")] })]));
    expect(err.kind).toBe("unavailable");
    expect(err.transient).toBe(true);
  });

  it("gives up on a slow answer with a timeout failure", async () => {
    const started = Date.now();
    const err = await failure(make({ timeout_ms: 300 }).send([email({ to: [address("slow")] })]));
    expect(err.kind).toBe("timeout");
    expect(Date.now() - started).toBeLessThan(s.slowMs);
  });

  it("reports refused credentials as auth, without echoing them", async () => {
    const err = await failure(make({}, c.wrongCredentials).send([email()]));
    expect(err.kind).toBe("auth");
    expect(err.transient).toBe(false);
    for (const secret of Object.values(c.wrongCredentials)) expect(err.message).not.toContain(secret);
  });
});

describe("adapter edge cases", () => {
  const s = stubs();

  it("rejects an email with a header line break before sending, and still sends the rest", async () => {
    const bad = email({ headers: { "X-Evil": "a\r\nBcc: victim@example.test" } });
    const good = email();
    const results = await createProvider("resend", { base_url: s.resend.baseUrl }, { api_key: s.resend.apiKey }).send([bad, good]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "accepted"]);
    expect(results[0]!.error).toMatch(/line break/);
    expect(await captured("resend", bad.to[0]!)).toEqual([]);
  });

  it("keeps what a per-email provider already accepted when a later email is throttled", async () => {
    const provider = createProvider("sendgrid", { base_url: s.sendgrid.baseUrl, concurrency: 1 }, { api_key: s.sendgrid.apiKey });
    const batch = [email(), email({ to: [address("throttle")] }), email()];
    const err = await failure(provider.send(batch));
    expect(err).toBeInstanceOf(PartialBatchError);
    expect(err.kind).toBe("rate_limited");
    const settled = (err as PartialBatchError).settled;
    expect(settled.map((r) => r?.status)).toEqual(["accepted", undefined, undefined]);
    expect(await captured("sendgrid", batch[2]!.to[0]!)).toEqual([]);
  });

  it("signs SES requests without a session token too, and fails auth on a scope for another region", async () => {
    const creds = { access_key_id: s.ses.accessKeyId, secret_access_key: s.ses.secretAccessKey };
    const withoutToken = createProvider("ses", { region: s.ses.region, base_url: s.ses.baseUrl }, creds);
    const e = email();
    expect((await withoutToken.send([e]))[0]!.status).toBe("accepted");
    const [req] = await captured("ses", e.to[0]!);
    expect(req!.headers.authorization).toContain("SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date,");
    expect(req!.headers).not.toHaveProperty("x-amz-security-token");
    const otherRegion = createProvider("ses", { region: "us-east-1", base_url: s.ses.baseUrl }, { ...creds, session_token: s.ses.sessionToken });
    expect((await failure(otherRegion.send([email()]))).kind).toBe("auth");
  });

  it("names a Mailgun domain the account does not have as misconfigured", async () => {
    const provider = createProvider("mailgun", { domain: "other.herald.test", base_url: s.mailgun.baseUrl }, { api_key: s.mailgun.apiKey });
    expect((await failure(provider.send([email()]))).kind).toBe("misconfigured");
  });

  it("refuses invalid settings as misconfigured, naming fields but never values", () => {
    const attempt = (kind: ProviderKind, config: unknown, credentials: unknown) => {
      try {
        createProvider(kind, config, credentials);
      } catch (err) {
        return err as Error & { kind?: string };
      }
      throw new Error("expected createProvider to throw");
    };
    const plainHttp = attempt("resend", { base_url: "http://api.example.com" }, { api_key: "re_secret_value" });
    expect(plainHttp.kind).toBe("misconfigured");
    expect(plainHttp.message).toContain("base_url");
    const missing = attempt("postmark", {}, { token: "pm_secret_value" });
    expect(missing.message).toContain("server_token");
    expect(missing.message).not.toContain("pm_secret_value");
    expect(attempt("ses", { region: "mars" }, {}).message).toMatch(/region/);
  });
});
