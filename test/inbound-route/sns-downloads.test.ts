import { afterEach, describe, expect, it, vi } from "vitest";
import { deliver } from "../inbound-helpers";
import { snsSigner } from "../inbound-signers";
import { expectProblem } from "../helpers";
import { sesProvider } from "./helpers";

describe("SNS downloads", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  /** An SES provider, and a SubscriptionConfirmation for its topic signed by a certificate on an SNS host. */
  async function sesConfirmation(subscribeUrl: string) {
    const topic = "arn:aws:sns:us-east-1:123456789012:herald-events";
    const { id } = await sesProvider(topic);
    const signer = await snsSigner(`https://sns.us-east-1.amazonaws.com/SimpleNotificationService-${crypto.randomUUID()}.pem`);
    const body = await signer.sign(
      {
        Type: "SubscriptionConfirmation",
        MessageId: crypto.randomUUID(),
        Token: "tok",
        TopicArn: topic,
        Message: "confirm",
        SubscribeURL: subscribeUrl,
        Timestamp: new Date().toISOString(),
      },
      "2",
    );
    return { id, signer, body };
  }

  /** Replaces the runtime's fetch: serves the certificate, answers the SubscribeURL with `answer`, records every call. */
  function fakeAws(certUrl: string, pem: string, answer: () => Response) {
    const calls: { url: string; redirect: RequestInit["redirect"] }[] = [];
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = input instanceof Request ? input.url : String(input);
      calls.push({ url, redirect: init?.redirect });
      return url === certUrl ? new Response(pem) : answer();
    });
    return calls;
  }

  it("confirms a subscription on an SNS host without following redirects; a SubscribeURL elsewhere is refused unfetched", async () => {
    const good = `https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=${crypto.randomUUID()}`;
    const ok = await sesConfirmation(good);
    const calls = fakeAws(ok.signer.certUrl, ok.signer.certificatePem, () => new Response("<ConfirmSubscriptionResponse/>"));
    const confirmed = await deliver(ok.id, ok.body);
    expect(await confirmed.res.json()).toEqual({ received: 0, confirmed: true });
    expect(calls.map((c) => c.url)).toEqual([ok.signer.certUrl, good]);
    expect(calls.every((c) => c.redirect === "manual")).toBe(true);

    // An SNS host answering with a redirect: not followed, the confirmation fails.
    vi.restoreAllMocks();
    const moved = await sesConfirmation(`https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&Token=${crypto.randomUUID()}`);
    const movedCalls = fakeAws(
      moved.signer.certUrl,
      moved.signer.certificatePem,
      () => new Response(null, { status: 302, headers: { location: "http://169.254.169.254/latest/meta-data/" } }),
    );
    expect((await expectProblem((await deliver(moved.id, moved.body)).res, 400, "bad_request")).detail).toBe(
      "subscription could not be confirmed",
    );
    expect(movedCalls.some((c) => c.url.includes("169.254"))).toBe(false);
    expect(movedCalls.every((c) => c.redirect === "manual")).toBe(true);

    // Hosts that look like SNS but are not: an S3 bucket named "sns" (anyone's files), a look-alike
    // domain, another port, plain http. Refused before anything is fetched for them.
    for (const url of [
      "https://sns.s3.amazonaws.com/?Action=ConfirmSubscription",
      "https://sns.s3-us-west-2.amazonaws.com/?Action=ConfirmSubscription",
      "https://sns.us-east-1.amazonaws.com.evil.example/?Action=ConfirmSubscription",
      "https://sns.us-east-1.amazonaws.com:8443/?Action=ConfirmSubscription",
      "http://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription",
    ]) {
      vi.restoreAllMocks();
      const evil = await sesConfirmation(url);
      const evilCalls = fakeAws(evil.signer.certUrl, evil.signer.certificatePem, () => new Response("<ConfirmSubscriptionResponse/>"));
      expect((await expectProblem((await deliver(evil.id, evil.body)).res, 400, "bad_request")).detail, url).toBe(
        "SubscribeURL is not an SNS URL",
      );
      expect(evilCalls.map((c) => c.url)).toEqual([evil.signer.certUrl]);
    }
  });
});
