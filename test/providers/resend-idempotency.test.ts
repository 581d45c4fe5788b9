import { describe, expect, it } from "vitest";
import { createProvider, PartialBatchError } from "../../src/providers";
import { address, captured, email, expectAmbiguous, expectSafe, failure, stubs } from "./helpers";

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
