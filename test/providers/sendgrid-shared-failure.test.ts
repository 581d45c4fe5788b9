// SendGrid's multi-recipient form (see sendgrid-batching.test.ts): when a request shared by several
// emails fails, each of its emails fails the same way, safe or ambiguous, and other requests'
// outcomes are kept.
import { describe, expect, it } from "vitest";
import { PartialBatchError } from "../../src/providers";
import { address, capturedAny, expectAmbiguous, expectSafe, failure } from "./helpers";
import { campaignEmail, expectDelivered, recipientsOf, sendgrid } from "./sendgrid-batch";

describe("sendgrid: a shared request's failure is all its emails' failure", () => {
  const group = (tag: string, n = 5, at = 2) =>
    Array.from({ length: n }, (_, k) => campaignEmail(k, k === at ? { to: [address(tag)] } : {}));

  it.each([
    ["throttle", "rate_limited"],
    ["unavailable", "unavailable"],
    ["fault-503", "unavailable"],
  ] as const)("%s: safe for every email of the request", async (tag, kind) => {
    const batch = group(tag);
    const err = await failure(sendgrid().send(batch));
    expect(err).not.toBeInstanceOf(PartialBatchError);
    expectSafe(err, kind);
    expect(await capturedAny("sendgrid", recipientsOf(batch))).toHaveLength(1);
  });

  it.each(["fault-reset", "fault-500", "fault-502", "fault-504", "fault-truncated", "fault-201"])(
    "%s: ambiguous for every email of the request",
    async (tag) => {
      const batch = group(tag);
      const err = await failure(sendgrid().send(batch));
      expect(err).not.toBeInstanceOf(PartialBatchError);
      expectAmbiguous(
        err,
        batch.map((e) => e.id),
      );
      expect(await capturedAny("sendgrid", recipientsOf(batch))).toHaveLength(1);
    },
  );

  it("a slow answer is ambiguous for every email of the request", async () => {
    const batch = group("slow");
    expectAmbiguous(
      await failure(sendgrid({ timeout_ms: 300 }).send(batch)),
      batch.map((e) => e.id),
    );
  });

  it("refused credentials fail the whole request as auth, nothing settled", async () => {
    const err = await failure(sendgrid({}, "SG.wrong").send(group("user")));
    expect(err.kind).toBe("auth");
    expect(err).not.toBeInstanceOf(PartialBatchError);
  });

  it("keeps what another request settled, and names only the ambiguous request's emails", async () => {
    const other = "Other <other@herald.test>";
    const batch = [
      campaignEmail(1),
      campaignEmail(2, { from: other }),
      campaignEmail(3),
      campaignEmail(4, { from: other, to: [address("fault-reset")] }),
    ];
    const err = await failure(sendgrid({ concurrency: 1 }).send(batch));
    expect(err).toBeInstanceOf(PartialBatchError);
    expectAmbiguous(err, [batch[1]!.id, batch[3]!.id]);
    expect((err as PartialBatchError).settled.map((r) => r?.status)).toEqual(["accepted", undefined, "accepted", undefined]);
  });

  it("a request not started after a failure is safe; the failed one is named", async () => {
    const other = "Other <other@herald.test>";
    const batch = [
      campaignEmail(1, { to: [address("fault-reset")] }),
      campaignEmail(2, { from: other }),
      campaignEmail(3),
      campaignEmail(4, { from: other }),
    ];
    const err = await failure(sendgrid({ concurrency: 1 }).send(batch));
    expectAmbiguous(err, [batch[0]!.id, batch[2]!.id]);
    expect(await capturedAny("sendgrid", [batch[1]!.to[0]!])).toEqual([]);
  });

  it("a 400 sends nothing: the request goes again in halves, and only the refused email is rejected", async () => {
    const batch = Array.from({ length: 16 }, (_, k) => campaignEmail(k, k === 11 ? { to: [address("reject")] } : {}));
    const results = await sendgrid().send(batch);
    expect(results.map((r) => r.status)).toEqual(batch.map((_, k) => (k === 11 ? "rejected" : "accepted")));
    expect(results[11]!.error).toMatch(/^sendgrid 400: .*valid address/);
    const requests = await capturedAny("sendgrid", recipientsOf(batch));
    // 16 → 8 + 8 → 4 + 4 → 2 + 2 → 1 + 1: at most 2 requests a level, each email delivered once.
    expect(requests.length).toBeLessThanOrEqual(1 + 2 * Math.ceil(Math.log2(16)));
    const accepted = requests.filter((r) => !r.recipients.some((t) => t.includes("reject")));
    expectDelivered(
      accepted,
      batch.filter((_, k) => k !== 11),
    );
  });
});
