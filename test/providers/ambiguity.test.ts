// The rules that keep ambiguity from being lost on its way out of an adapter (src/providers/batch.ts,
// errors.ts, http.ts), with stand-in sends and fetches so every interleaving is exact.
import { describe, expect, it } from "vitest";
import { runBatch, sendEach } from "../../src/providers/batch";
import { accepted, clip, failBatch, PartialBatchError } from "../../src/providers/errors";
import { httpCall, type HttpContext } from "../../src/providers/http";
import { ProviderError, type OutboundEmail, type SendResult } from "../../src/providers/types";
import { deferred, tick } from "./deferred";
import { email, expectAmbiguous, expectSafe, failure } from "./helpers";

describe("ProviderError", () => {
  it("is ambiguous only for kind ambiguous, which is never transient", () => {
    const err = new ProviderError("ambiguous", "maybe", undefined, ["a"]);
    expect([err.ambiguous, err.transient, err.ambiguousIds]).toEqual([true, false, ["a"]]);
    for (const kind of ["rate_limited", "unavailable", "timeout"] as const) {
      expect([new ProviderError(kind, "x").transient, new ProviderError(kind, "x").ambiguous]).toEqual([true, false]);
    }
    for (const kind of ["auth", "misconfigured"] as const) {
      expect([new ProviderError(kind, "x").transient, new ProviderError(kind, "x").ambiguous]).toEqual([false, false]);
    }
  });

  it("keeps its message well-formed and bounded, since it reaches the database and the API", () => {
    const err = new ProviderError("unavailable", `bad \uD800 text ${"x".repeat(2000)}`);
    expect(err.message.isWellFormed()).toBe(true);
    expect(err.message).toContain("bad \uFFFD text");
    expect(Array.from(err.message)).toHaveLength(1000);
  });

  it("carries ambiguousIds and replay through PartialBatchError and failBatch", () => {
    const replay = { key: "k", body: "[]" };
    const base = new ProviderError("ambiguous", "lost", 3, ["b"], replay);
    const settled: (SendResult | undefined)[] = [accepted("a"), undefined];
    const partial = (() => {
      try {
        failBatch(base, settled);
      } catch (err) {
        return err as PartialBatchError;
      }
    })()!;
    expect(partial).toBeInstanceOf(PartialBatchError);
    expect([partial.kind, partial.ambiguous, partial.ambiguousIds, partial.replay, partial.retryAfterSeconds]).toEqual([
      "ambiguous",
      true,
      ["b"],
      replay,
      3,
    ]);
    expect(partial.failure).toBe(base);
    // Rewrapping keeps the original failure, not a message that grows.
    expect(() => failBatch(partial, [undefined, undefined])).toThrow(base);
  });
});

describe("clip", () => {
  it("clips by code points and never leaves half a surrogate pair or a lone one", () => {
    expect(clip("😀😀😀😀", 3)).toBe("😀😀…");
    expect(clip("a\uDC00b  c\n d")).toBe("a\uFFFDb c d");
    expect(clip("x".repeat(400))).toHaveLength(300);
  });
});

describe("sendEach", () => {
  const batch = () => [email(), email(), email(), email()];

  it("names the in-flight ambiguous email even when a safe failure came first", async () => {
    const emails = batch();
    const slow = deferred<SendResult>();
    const send = sendEach(emails, 2, (e) => {
      if (e === emails[0]) return Promise.reject(new ProviderError("rate_limited", "429", 9));
      if (e === emails[1]) return slow.promise;
      return Promise.resolve(accepted(e.id));
    });
    await tick();
    slow.reject(new ProviderError("ambiguous", "reset"));
    const err = await failure(send);
    expectAmbiguous(err, [emails[1]!.id]);
    expect(err.retryAfterSeconds).toBe(9);
  });

  it("names only ambiguous requests: settled, safely failed and never started emails are not in it", async () => {
    const emails = batch();
    const gates = emails.map(() => deferred<SendResult>());
    const started: string[] = [];
    const send = sendEach(emails, 3, (e) => {
      started.push(e.id);
      return gates[emails.indexOf(e)]!.promise;
    });
    await tick();
    gates[1]!.resolve(accepted(emails[1]!.id));
    await tick();
    // The worker that finished email 1 took email 3: four in flight over time, three at once.
    gates[2]!.reject(new ProviderError("ambiguous", "timeout"));
    gates[0]!.reject(new ProviderError("unavailable", "503"));
    gates[3]!.reject(new ProviderError("ambiguous", "502"));
    const err = await failure(send);
    expect(started).toHaveLength(4);
    expect(err).toBeInstanceOf(PartialBatchError);
    expectAmbiguous(err, [emails[2]!.id, emails[3]!.id]);
    expect((err as PartialBatchError).settled.map((r) => r?.status)).toEqual([undefined, "accepted", undefined, undefined]);
  });

  it("stops starting new sends after the first failure, and reports a safe one as is", async () => {
    const emails = batch();
    const started: string[] = [];
    const err = await failure(
      sendEach(emails, 1, async (e) => {
        started.push(e.id);
        if (e === emails[1]) throw new ProviderError("unavailable", "503");
        return accepted(e.id);
      }),
    );
    expect(started).toEqual([emails[0]!.id, emails[1]!.id]);
    expectSafe(err, "unavailable");
    expect((err as PartialBatchError).settled.map((r) => r?.status)).toEqual(["accepted", undefined, undefined, undefined]);
  });

  it("turns an unexpected error into ambiguity for that email, after the others finish", async () => {
    const emails = batch().slice(0, 2);
    const err = await failure(
      sendEach(emails, 2, async (e) => {
        if (e === emails[0]) throw new TypeError("boom");
        await tick();
        return accepted(e.id);
      }),
    );
    expectAmbiguous(err, [emails[0]!.id]);
    expect(err.message).toMatch(/TypeError: boom/);
    expect((err as PartialBatchError).settled.map((r) => r?.status)).toEqual([undefined, "accepted"]);
  });
});

describe("runBatch", () => {
  const ids = (emails: OutboundEmail[]) => emails.map((e) => e.id);

  it("names every unsettled email of an ambiguous chunk that did not name them, and none of the next chunk", async () => {
    const emails = [email(), email(), email(), email(), email()];
    const err = await failure(
      runBatch(emails, 2, async (chunk) => {
        if (chunk[0] === emails[2])
          throw new PartialBatchError(new ProviderError("ambiguous", "lost"), [accepted(chunk[0]!.id), undefined]);
        return chunk.map((e) => accepted(e.id));
      }),
    );
    expectAmbiguous(err, [emails[3]!.id]);
    expect((err as PartialBatchError).settled.map((r) => r?.status)).toEqual(["accepted", "accepted", "accepted", undefined, undefined]);
  });

  it("reads an answer that does not match the chunk as ambiguous for the whole chunk", async () => {
    const emails = [email(), email()];
    const err = await failure(runBatch(emails, 10, async (chunk) => [accepted(chunk[0]!.id)]));
    expectAmbiguous(err, ids(emails));
    const swapped = await failure(runBatch(emails, 10, async (chunk) => [accepted(chunk[1]!.id), accepted(chunk[0]!.id)]));
    expectAmbiguous(swapped, ids(emails));
  });

  it("reads an unexpected error from a chunk as ambiguous for that chunk, keeping earlier chunks", async () => {
    const emails = [email(), email(), email()];
    const err = await failure(
      runBatch(emails, 2, async (chunk) => {
        if (chunk[0] === emails[2]) throw new RangeError("bug");
        return chunk.map((e) => accepted(e.id));
      }),
    );
    expect(err).toBeInstanceOf(PartialBatchError);
    expectAmbiguous(err, [emails[2]!.id]);
  });

  it("passes a safe failure on as it is", async () => {
    const err = await failure(
      runBatch([email()], 10, async () => {
        throw new ProviderError("rate_limited", "429", 4);
      }),
    );
    expectSafe(err, "rate_limited");
    expect(err.retryAfterSeconds).toBe(4);
  });
});

describe("httpCall", () => {
  const ctx = (fetch: typeof globalThis.fetch): HttpContext => ({ provider: "stub", fetch, timeoutMs: 1000, safe5xx: () => false });

  it("reads a fetch the runtime never started as safe, and any other fetch failure as ambiguous", async () => {
    const refused = ctx(() => Promise.reject(new Error("Too many subrequests.")));
    expectSafe(await failure(httpCall(refused, "https://api.example.test/", { method: "POST" })), "unavailable");
    const lost = ctx(() => Promise.reject(new Error("Network connection lost.")));
    const err = await failure(
      httpCall(lost, "https://api.example.test/?key=secret", { method: "POST", headers: { authorization: "Bearer secret" } }),
    );
    expect(err.kind).toBe("ambiguous");
    expect(err.message).not.toContain("secret");
  });

  it("reads a body that fails after a 2xx as ambiguous, and after another status returns that status", async () => {
    const broken = (status: number) =>
      ctx(async () => {
        const body = new ReadableStream<Uint8Array>({
          start(c) {
            c.enqueue(new TextEncoder().encode("{"));
            c.error(new Error("Network connection lost."));
          },
        });
        return new Response(body, { status });
      });
    expect((await failure(httpCall(broken(200), "https://api.example.test/", {}))).kind).toBe("ambiguous");
    const answer = await httpCall(broken(503), "https://api.example.test/", {});
    expect([answer.status, answer.text]).toEqual([503, ""]);
  });
});
