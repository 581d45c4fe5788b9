// The provider-independent parts of the multi-recipient form (src/providers/multi-recipient.ts):
// factoring emails' texts into shared parts and per-member values, and running a batch's calls so
// that no ambiguous email is lost.
import { describe, expect, it } from "vitest";
import { PartialBatchError } from "../../src/providers";
import { accepted } from "../../src/providers/errors";
import { factor, join } from "../../src/providers/factor";
import { runCalls, type Call } from "../../src/providers/multi-recipient";
import { ProviderError, type SendResult } from "../../src/providers/types";
import { deferred, tick } from "./deferred";
import { email, expectAmbiguous, failure } from "./helpers";
import { LAYOUT, token } from "./sendgrid-batch";

describe("factor", () => {
  it("gives back every member's text exactly, never an empty value, and leaves out what does not fit", () => {
    const base = LAYOUT.join("");
    const texts = Array.from({ length: 40 }, (_, k) => [
      `${k % 5 ? `Hi ${k}` : ""}${base.slice(0, 2000)}${token(k % 9)}${base.slice(2000)}${"😀".repeat(k % 2)}`,
    ]);
    texts.push([token(5000)]);
    const { groups, rest } = factor(texts, { budget: 500, holeCost: 50 });
    expect(groups).toHaveLength(1);
    expect(rest).toEqual([40]);
    const [g] = groups;
    expect(g!.members).toEqual(Array.from({ length: 40 }, (_, k) => k));
    g!.members.forEach((m, k) => {
      expect(join(g!.parts[0]!, k)).toBe(texts[m]![0]);
      expect(g!.parts[0]!.values[k]!.every((v) => v.length > 0)).toBe(true);
    });
    // The layout is shared: what is left to each member is small.
    expect(Math.max(...g!.parts[0]!.values.map((v) => v.join("").length))).toBeLessThan(40);
  });
});

describe("runCalls", () => {
  it("names every email of an ambiguous call, even when a safe failure came first, and none of the calls not started", async () => {
    const batch = Array.from({ length: 7 }, () => email());
    const gates = [deferred(), deferred(), deferred()];
    const started: number[] = [];
    const call = (n: number, slots: number[]): Call => ({
      emails: slots.map((i) => batch[i]!),
      run: async (settle) => {
        started.push(n);
        await gates[n]!.promise;
        for (const [k, i] of slots.entries()) settle(k, accepted(batch[i]!.id));
      },
    });
    const send = runCalls(
      batch,
      [call(0, [0, 2]), call(1, [1, 3, 4]), call(2, [5]), { emails: [batch[6]!], run: async () => void started.push(3) }],
      3,
    );
    await tick();
    gates[0]!.reject(new ProviderError("rate_limited", "429", 9));
    gates[2]!.resolve();
    await tick();
    gates[1]!.reject(new ProviderError("ambiguous", "reset"));
    const err = await failure(send);
    expect(started).toEqual([0, 1, 2]);
    expect(err).toBeInstanceOf(PartialBatchError);
    expectAmbiguous(err, [batch[1]!.id, batch[3]!.id, batch[4]!.id]);
    expect(err.retryAfterSeconds).toBe(9);
    expect(err.message).toMatch(/3 emails ambiguous; 1 calls failed safely: 429/);
    expect((err as PartialBatchError).settled.map((r) => r?.status)).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      "accepted",
      undefined,
    ]);
  });

  it("reads a call that leaves an email without an answer, or throws something else, as ambiguous for those emails", async () => {
    const batch = [email(), email(), email()];
    const partial: Call = { emails: [batch[0]!, batch[1]!], run: async (settle) => settle(0, accepted(batch[0]!.id)) };
    const err = await failure(
      runCalls(batch, [partial, { emails: [batch[2]!], run: async () => Promise.reject(new TypeError("boom")) }], 2),
    );
    expectAmbiguous(err, [batch[1]!.id, batch[2]!.id]);
    expect((err as PartialBatchError).settled.map((r?: SendResult) => r?.status)).toEqual(["accepted", undefined, undefined]);
  });
});
