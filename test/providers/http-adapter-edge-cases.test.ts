// The HTTP adapters' edge cases: partial batches, concurrent failures, header injection, odd success
// statuses, SES signing variants and settings refused before sending.
import { describe, expect, it } from "vitest";
import type { ProviderKind } from "../../src/db/schema";
import { createProvider, PartialBatchError } from "../../src/providers";
import { address, captured, email, expectAmbiguous, expectSafe, failure, stubs } from "./helpers";
import { CASES } from "./http-adapter-cases";

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
