// The sink adapter against scripts/lib/sink-server.mjs, the reference implementation of its wire format.
import { describe, expect, it } from "vitest";
import { createProvider, PartialBatchError } from "../../src/providers";
import { address, captured, email, expectAmbiguous, expectSafe, failure, stubs } from "./helpers";

const s = stubs();

async function failFaultySink(status: number, count: number) {
  const res = await fetch(`${s.control}/_sink/fail`, { method: "POST", body: JSON.stringify({ status, count }) });
  expect(res.status).toBe(204);
}

describe("sink adapter", () => {
  const sink = createProvider("sink", { url: s.sink.url }, null);

  it("sends a batch and answers one result per email, in order, rejecting what the sink refuses", async () => {
    const batch = [email(), email({ to: [address("reject")] }), email({ cc: [address()], replyTo: "r@herald.test" })];
    const results = await sink.send(batch);
    expect(results).toEqual([
      { id: batch[0]!.id, status: "accepted" },
      { id: batch[1]!.id, status: "rejected", error: expect.any(String) },
      { id: batch[2]!.id, status: "accepted" },
    ]);
  });

  it("splits a batch larger than maxBatchSize and keeps the order", async () => {
    expect(sink.maxBatchSize).toBe(100);
    const batch = Array.from({ length: 101 }, () => email());
    const results = await sink.send(batch);
    expect(results.map((r) => r.id)).toEqual(batch.map((e) => e.id));
    expect(results.every((r) => r.status === "accepted")).toBe(true);
  });

  it("maps 429 to rate_limited with the sink's Retry-After, and 5xx to unavailable", async () => {
    const faulty = createProvider("sink", { url: s.sink.faultyUrl }, { token: "sink-token" });
    await failFaultySink(429, 1);
    const limited = await failure(faulty.send([email()]));
    expectSafe(limited, "rate_limited");
    expect(limited.retryAfterSeconds).toBe(1);
    await failFaultySink(503, 1);
    expectSafe(await failure(faulty.send([email()])), "unavailable");
    expect((await faulty.send([email()]))[0]!.status).toBe("accepted");
  });

  it.each([500, 502, 503, 504])("reads a %i as not accepted: the wire format says any 5xx took nothing", async (status) => {
    const forced = createProvider("sink", { url: `${s.sink.url}status/${status}/classification` }, null);
    const err = await failure(forced.send([email(), email()]));
    expectSafe(err, "unavailable");
    expect(err.retryAfterSeconds).toBe(1);
  });

  it("times out against a server that never answers as ambiguous", async () => {
    const silent = createProvider("sink", { url: `http://127.0.0.1:${s.silentPort}/`, timeout_ms: 300 }, null);
    const batch = [email(), email()];
    expectAmbiguous(
      await failure(silent.send(batch)),
      batch.map((e) => e.id),
    );
  });

  it("reads a refused connection as ambiguous: workerd reports it exactly like a lost answer", async () => {
    const closed = createProvider("sink", { url: `http://127.0.0.1:${s.closedPort}/` }, null);
    const e = email();
    const err = await failure(closed.send([e]));
    expectAmbiguous(err, [e.id]);
    expect(err.message).not.toContain(String(s.closedPort));
  });

  describe("against the fault stand-in", () => {
    const sink = createProvider("sink", { url: s.sinkFaultUrl }, { token: "sink-token" });

    it("speaks the same wire format", async () => {
      const batch = [email(), email({ to: [address("reject")] })];
      expect((await sink.send(batch)).map((r) => r.status)).toEqual(["accepted", "rejected"]);
      const [req] = await captured("sink", batch[0]!.to[0]!);
      expect(req!.violations).toEqual([]);
      expect(req!.headers.authorization).toBe("Bearer sink-token");
    });

    it("reads a reset after the request was sent as ambiguous for the whole chunk", async () => {
      const batch = [email(), email({ to: [address("fault-reset")] })];
      expectAmbiguous(
        await failure(sink.send(batch)),
        batch.map((e) => e.id),
      );
    });

    it("reads a 200 it cannot read, or that is cut off, as ambiguous; a cut-off 503 as not accepted", async () => {
      const garbled = [email({ to: [address("fault-garbled")] })];
      expectAmbiguous(await failure(sink.send(garbled)), [garbled[0]!.id]);
      const truncated = [email({ to: [address("fault-truncated")] })];
      expectAmbiguous(await failure(sink.send(truncated)), [truncated[0]!.id]);
      expectSafe(await failure(sink.send([email({ to: [address("fault-truncated503")] })])), "unavailable");
      const other2xx = [email({ to: [address("fault-201")] })];
      expectAmbiguous(await failure(sink.send(other2xx)), [other2xx[0]!.id]);
    });

    it("keeps the chunks already sent, names only the ambiguous chunk, and never sends the next", async () => {
      const batch = Array.from({ length: 201 }, () => email());
      batch[150] = email({ to: [address("fault-reset")] });
      const err = await failure(sink.send(batch));
      expect(err).toBeInstanceOf(PartialBatchError);
      expectAmbiguous(
        err,
        batch.slice(100, 200).map((e) => e.id),
      );
      const settled = (err as PartialBatchError).settled;
      expect(settled.slice(0, 100).every((r) => r?.status === "accepted")).toBe(true);
      expect(settled.slice(100).every((r) => r === undefined)).toBe(true);
      expect(await captured("sink", batch[200]!.to[0]!)).toEqual([]);
    });
  });

  it("answers an empty batch without a request", async () => {
    expect(await createProvider("sink", { url: `http://127.0.0.1:${s.closedPort}/` }, null).send([])).toEqual([]);
  });
});
