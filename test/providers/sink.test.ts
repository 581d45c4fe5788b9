// The sink adapter against scripts/lib/sink-server.mjs, the reference implementation of its wire format.
import { describe, expect, it } from "vitest";
import { createProvider } from "../../src/providers";
import { address, email, failure, stubs } from "./helpers";

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
    expect([limited.kind, limited.retryAfterSeconds]).toEqual(["rate_limited", 1]);
    await failFaultySink(503, 1);
    expect((await failure(faulty.send([email()]))).kind).toBe("unavailable");
    expect((await faulty.send([email()]))[0]!.status).toBe("accepted");
  });

  it("times out against a server that never answers, and is unavailable when nothing listens", async () => {
    const silent = createProvider("sink", { url: `http://127.0.0.1:${s.silentPort}/`, timeout_ms: 300 }, null);
    expect((await failure(silent.send([email()]))).kind).toBe("timeout");
    const closed = createProvider("sink", { url: `http://127.0.0.1:${s.closedPort}/` }, null);
    expect((await failure(closed.send([email()]))).kind).toBe("unavailable");
  });

  it("answers an empty batch without a request", async () => {
    expect(await createProvider("sink", { url: `http://127.0.0.1:${s.closedPort}/` }, null).send([])).toEqual([]);
  });
});
