// resend, postmark, sendgrid, mailgun and ses, each through its Node stand-in (test/providers/stubs),
// which checks the documented request shape and answers as the provider does.
import { describe, expect, it } from "vitest";
import { createProvider } from "../../src/providers";
import { address, captured, email, expectAmbiguous, expectSafe, failure, stubs } from "./helpers";
import { CASES, type Settings } from "./http-adapter-cases";

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
