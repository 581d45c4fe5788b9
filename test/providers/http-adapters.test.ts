// resend, postmark, sendgrid, mailgun and ses, each through its Node stand-in (test/providers/stubs),
// which checks the documented request shape and answers as the provider does.
import { describe, expect, it } from "vitest";
import type { ProviderKind } from "../../src/db/schema";
import { createProvider, PartialBatchError } from "../../src/providers";
import type { OutboundEmail } from "../../src/providers/types";
import type { ProviderStubInfo } from "../setup/provider-stubs";
import { address, captured, email, expectAmbiguous, expectSafe, failure, stubs, type Captured } from "./helpers";

type Settings = Record<string, unknown>;

interface Case {
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

type Json = Record<string, any>;

const CASES: Case[] = [
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
      const item = (req.body as Json[]).find((m) => m.to.includes(e.to[0]))!;
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
      const item = (req.body as Json[]).find((m) => m.To === e.to[0])!;
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
      const body = req.body as Json;
      expect(body).toMatchObject({
        from: { email: "sender@herald.test", name: "Herald Tests" },
        reply_to: { email: "help@herald.test", name: "Support" },
      });
      expect(body.subject).toBeUndefined();
      const p = (body.personalizations as Json[]).find((x) => x.to[0].email === e.to[0])!;
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

describe.each(CASES)("$kind adapter", (c) => {
  const s = stubs();
  const make = (config: Settings = {}, credentials = c.credentials(s)) =>
    createProvider(c.kind, { ...c.config(s), ...config }, credentials);

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
    expectSafe(err, "rate_limited");
    expect(err.retryAfterSeconds).toBe(7);
  });

  it("turns a 503 into a transient unavailable failure", async () => {
    const err = await failure(make().send([email({ to: [address("unavailable")] })]));
    expectSafe(err, "unavailable");
  });

  it.each([500, 502, 503, 504] as const)("reads a %i as the provider documents it", async (status) => {
    const e = email({ to: [address(`fault-${status}`)] });
    const err = await failure(make().send([e]));
    if (c.serverErrors[status] === "unavailable") expectSafe(err, "unavailable");
    else expectAmbiguous(err, [e.id]);
    expect(err.message).toContain(String(status));
  });

  it("gives up on a slow answer as ambiguous: the request may have been taken", async () => {
    const started = Date.now();
    const e = email({ to: [address("slow")] });
    const err = await failure(make({ timeout_ms: 300 }).send([e]));
    expectAmbiguous(err, [e.id]);
    expect(err.message).toMatch(/300 ms/);
    expect(Date.now() - started).toBeLessThan(s.slowMs);
  });

  it("reads a connection reset after the request was sent as ambiguous", async () => {
    const e = email({ to: [address("fault-reset")] });
    const err = await failure(make().send([e]));
    expectAmbiguous(err, [e.id]);
    expect((await captured(c.kind, e.to[0]!)).length).toBe(1);
  });

  it("reads a success whose body is cut off as ambiguous, and a cut-off 503 as its status", async () => {
    const e = email({ to: [address("fault-truncated")] });
    expectAmbiguous(await failure(make().send([e])), [e.id]);
    expectSafe(await failure(make().send([email({ to: [address("fault-truncated503")] })])), "unavailable");
  });

  it("reads a 200 that is not the documented answer as the status allows", async () => {
    const e = email({ to: [address("fault-garbled")] });
    if (c.garbled200 === "accepted") {
      expect((await make().send([e]))[0]!.status).toBe("accepted");
    } else {
      expectAmbiguous(await failure(make().send([e])), [e.id]);
    }
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
    const provider = createProvider(
      "ses",
      { ...CASES.find((c) => c.kind === "ses")!.config(s), concurrency: 1 },
      CASES.find((c) => c.kind === "ses")!.credentials(s),
    );
    const batch = [email(), email({ to: [address("throttle")] }), email()];
    const err = await failure(provider.send(batch));
    expect(err).toBeInstanceOf(PartialBatchError);
    expectSafe(err, "rate_limited");
    const settled = (err as PartialBatchError).settled;
    expect(settled.map((r) => r?.status)).toEqual(["accepted", undefined, undefined]);
    expect(await captured("ses", batch[2]!.to[0]!)).toEqual([]);
  });

  it.each(["mailgun", "ses"] as const)(
    "%s: an ambiguous email stops the batch, is named alone, and keeps what was settled",
    async (kind) => {
      const provider = createProvider(
        kind,
        { ...CASES.find((c) => c.kind === kind)!.config(s), concurrency: 1 },
        CASES.find((c) => c.kind === kind)!.credentials(s),
      );
      const batch = [email(), email({ to: [address("fault-reset")] }), email()];
      const err = await failure(provider.send(batch));
      expect(err).toBeInstanceOf(PartialBatchError);
      expectAmbiguous(err, [batch[1]!.id]);
      expect((err as PartialBatchError).settled.map((r) => r?.status)).toEqual(["accepted", undefined, undefined]);
      expect(await captured(kind, batch[2]!.to[0]!)).toEqual([]);
    },
  );

  it("never loses an ambiguous email to a safe failure that came first", async () => {
    // Both requests are in flight at once: the 429 is answered at once, the reset comes 300 ms later.
    const provider = createProvider(
      "mailgun",
      { domain: s.mailgun.domain, base_url: s.mailgun.baseUrl, concurrency: 2 },
      { api_key: s.mailgun.apiKey },
    );
    const batch = [email({ to: [address("throttle")] }), email({ to: [address("fault-slowreset")] }), email()];
    const err = await failure(provider.send(batch));
    expect(err).not.toBeInstanceOf(PartialBatchError);
    expectAmbiguous(err, [batch[1]!.id]);
    // The throttled email and the one never started are safe to retry, after the 429's Retry-After.
    expect(err.retryAfterSeconds).toBe(7);
    expect(err.message).toMatch(/1 failed safely/);
    expect(await captured("mailgun", batch[2]!.to[0]!)).toEqual([]);
  });

  it("names every ambiguous email of concurrent requests, in batch order", async () => {
    const provider = createProvider(
      "mailgun",
      { domain: s.mailgun.domain, base_url: s.mailgun.baseUrl, concurrency: 3 },
      { api_key: s.mailgun.apiKey },
    );
    const batch = [email({ to: [address("fault-slowreset")] }), email(), email({ to: [address("fault-504")] })];
    const err = await failure(provider.send(batch));
    expect(err).toBeInstanceOf(PartialBatchError);
    expectAmbiguous(err, [batch[0]!.id, batch[2]!.id]);
    expect((err as PartialBatchError).settled.map((r) => r?.status)).toEqual([undefined, "accepted", undefined]);
  });

  it("resend: a 2xx answer that does not account for the batch is ambiguous", async () => {
    const batch = [email(), email({ to: [address("fault-201")] })];
    const err = await failure(createProvider("resend", { base_url: s.resend.baseUrl }, { api_key: s.resend.apiKey }).send(batch));
    expectAmbiguous(
      err,
      batch.map((e) => e.id),
    );
  });

  it("sendgrid: a success status other than 202/200 is ambiguous", async () => {
    const e = email({ to: [address("fault-201")] });
    const err = await failure(createProvider("sendgrid", { base_url: s.sendgrid.baseUrl }, { api_key: s.sendgrid.apiKey }).send([e]));
    expectAmbiguous(err, [e.id]);
  });

  it("signs SES requests without a session token too, and fails auth on a scope for another region", async () => {
    const creds = { access_key_id: s.ses.accessKeyId, secret_access_key: s.ses.secretAccessKey };
    const withoutToken = createProvider("ses", { region: s.ses.region, base_url: s.ses.baseUrl }, creds);
    const e = email();
    expect((await withoutToken.send([e]))[0]!.status).toBe("accepted");
    const [req] = await captured("ses", e.to[0]!);
    expect(req!.headers.authorization).toContain("SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date,");
    expect(req!.headers).not.toHaveProperty("x-amz-security-token");
    const otherRegion = createProvider(
      "ses",
      { region: "us-east-1", base_url: s.ses.baseUrl },
      { ...creds, session_token: s.ses.sessionToken },
    );
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

describe("resend replays an ambiguous batch with its Idempotency-Key", () => {
  const s = stubs();
  const resend = () => createProvider("resend", { base_url: s.resend.baseUrl }, { api_key: s.resend.apiKey });

  it("hands back the exact request of an ambiguous batch, and replaying it sends nothing twice", async () => {
    const provider = resend();
    expect(provider.idempotent).toBeDefined();
    const batch = [email(), email({ to: [address("fault-reset")] }), email({ to: [address("reject")] })];
    // The stand-in processes the batch, then resets the connection: accepted, answer lost.
    const err = await failure(provider.send(batch));
    expectAmbiguous(
      err,
      batch.map((e) => e.id),
    );
    expect(err.replay).toEqual(await provider.idempotent!.prepare(batch));
    expect(err.replay!.key).toMatch(/^herald-[0-9a-f]{64}$/);

    const results = await provider.idempotent!.sendPrepared(err.replay!, err.ambiguousIds!);
    expect(results.map((r) => [r.id, r.status])).toEqual([
      [batch[0]!.id, "accepted"],
      [batch[1]!.id, "accepted"],
      [batch[2]!.id, "rejected"],
    ]);
    const [first, replay] = await captured("resend", batch[0]!.to[0]!);
    expect(replay!.headers["idempotency-key"]).toBe(first!.headers["idempotency-key"]);
    expect(replay!.body).toEqual(first!.body);
    expect(replay!.replayed).toBe(true);
  });

  it("sends a batch as prepare + sendPrepared: the first attempt is the replay, byte for byte", async () => {
    const provider = resend();
    const batch = [email(), email()];
    await provider.send(batch);
    const prepared = await provider.idempotent!.prepare(batch);
    const [req] = await captured("resend", batch[0]!.to[0]!);
    expect(req!.headers["idempotency-key"]).toBe(prepared.key);
    expect(req!.body).toEqual(JSON.parse(prepared.body));
    // Sent again, the same request is answered from Resend's store, not sent again.
    expect(
      (
        await provider.idempotent!.sendPrepared(
          prepared,
          batch.map((e) => e.id),
        )
      ).every((r) => r.status === "accepted"),
    ).toBe(true);
    expect((await captured("resend", batch[0]!.to[0]!))[1]!.replayed).toBe(true);
  });

  it("reads a 409 as ambiguous, never as a plain retry, and keeps the replay", async () => {
    const provider = resend();
    // concurrent_idempotent_requests: the first request with this key is still running.
    const running = email({ to: [address("fault-409")] });
    const err = await failure(provider.send([running]));
    expectAmbiguous(err, [running.id]);
    expect(err.message).toMatch(/409 concurrent_idempotent_requests/);
    expect(err.replay).toEqual(await provider.idempotent!.prepare([running]));

    // invalid_idempotent_request: the same emails with another body.
    const e = email();
    await provider.send([e]);
    const changed = await failure(provider.send([{ ...e, subject: "another subject" }]));
    expectAmbiguous(changed, [e.id]);
    expect(changed.message).toMatch(/409 invalid_idempotent_request/);
  });

  it("keeps the replay and names only the sent emails when some were rejected up front", async () => {
    const provider = resend();
    const bad = email({ headers: { "X-Evil": "a\r\nBcc: victim@example.test" } });
    const sent = email({ to: [address("fault-truncated")] });
    const err = await failure(provider.send([bad, sent]));
    expect(err).toBeInstanceOf(PartialBatchError);
    expectAmbiguous(err, [sent.id]);
    expect((err as PartialBatchError).settled.map((r) => r?.status)).toEqual(["rejected", undefined]);
    expect(err.replay).toEqual(await provider.idempotent!.prepare([sent]));
  });

  it("attaches no replay to a safe failure, and other providers offer none", async () => {
    const err = await failure(resend().send([email({ to: [address("unavailable")] })]));
    expectSafe(err, "unavailable");
    expect(err.replay).toBeUndefined();
    expect(
      createProvider("postmark", { base_url: s.postmark.baseUrl }, { server_token: s.postmark.serverToken }).idempotent,
    ).toBeUndefined();
  });
});
