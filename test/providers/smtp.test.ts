// The SMTP adapter against a real SMTP server (smtp-server), whose captured mail is parsed by
// mailparser on the Node side (test/providers/stubs/smtp-stub.mjs).
import { describe, expect, it } from "vitest";
import { createProvider, PartialBatchError } from "../../src/providers";
import { address, email, expectAmbiguous, expectSafe, failure, smtpFaultLog, smtpMessages, stubs } from "./helpers";

const s = stubs();
const login = { username: s.smtp.username, password: s.smtp.password };
const relay = (extra: Record<string, unknown> = {}, credentials: unknown = login) =>
  createProvider("smtp", { host: s.smtp.host, port: s.smtp.port, security: "none", ...extra }, credentials);

async function onlyMessageFor(to: string) {
  const messages = await smtpMessages(to);
  expect(messages).toHaveLength(1);
  return messages[0]!;
}

describe("smtp adapter", () => {
  it("delivers a multipart/alternative message with the headers herald promises (AUTH PLAIN)", async () => {
    const e = email({ replyTo: "Support <help@herald.test>", cc: [address("cc")] });
    const [result] = await relay().send([e]);
    expect(result).toMatchObject({ id: e.id, status: "accepted", providerMessageId: `<${e.id}@herald.test>` });
    const m = await onlyMessageFor(e.to[0]!);
    expect(m.user).toBe(`PLAIN:${s.smtp.username}`);
    expect(m.envelope).toEqual({ from: "sender@herald.test", to: [e.to[0], e.cc![0]] });
    expect(m.contentType).toBe("multipart/alternative");
    expect(m.parts).toEqual([
      { contentType: "text/plain; charset=UTF-8", transferEncoding: "quoted-printable" },
      { contentType: "text/html; charset=UTF-8", transferEncoding: "quoted-printable" },
    ]);
    expect(m.messageId).toBe(result!.providerMessageId);
    expect(m.dateHeader).toMatch(
      /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} \+0000$/,
    );
    expect(Math.abs(Date.parse(m.date!) - Date.now())).toBeLessThan(60_000);
    expect(m.from).toEqual([{ address: "sender@herald.test", name: "Herald Tests" }]);
    expect(m.to).toEqual([{ address: e.to[0], name: "" }]);
    expect(m.cc.map((a) => a.address)).toEqual(e.cc);
    expect(m.replyTo).toEqual([{ address: "help@herald.test", name: "Support" }]);
    expect(m.subject).toBe(e.subject);
    expect(m.text?.trim()).toBe(e.text);
    expect(m.html?.trim()).toBe(e.html);
    expect(m.headers["x-herald-campaign"]).toBe("c-1");
    expect(m.headers["list-unsubscribe"]).toBe("<https://herald.test/u/abc>");
    expect(m.headers["mime-version"]).toBe("1.0");
  });

  it("authenticates with AUTH LOGIN when asked to", async () => {
    const e = email();
    expect((await relay({}, { ...login, method: "login" }).send([e]))[0]!.status).toBe("accepted");
    expect((await onlyMessageFor(e.to[0]!)).user).toBe(`LOGIN:${s.smtp.username}`);
  });

  it("dot-stuffs lines that start with a dot, so the message arrives whole", async () => {
    const text = "first line\n.\n.hidden line\n..two dots\nlast line";
    const e = email({ text, html: "<p>a</p>\n.\n<p>b</p>" });
    expect((await relay().send([e]))[0]!.status).toBe("accepted");
    const m = await onlyMessageFor(e.to[0]!);
    expect(m.text?.replace(/\n$/, "")).toBe(text);
    expect(m.html?.replace(/\n$/, "")).toBe("<p>a</p>\n.\n<p>b</p>");
  });

  it("carries non-ASCII subjects, names and bodies intact", async () => {
    const e = email({
      subject: "Grüße, 🎉 und ein sehr langer Betreff, der gefaltet werden muss, damit er passt",
      from: "Zoë <zoe@herald.test>",
      text: "Ça va? ✓",
      html: "<p>Ça va? ✓</p>",
    });
    await relay().send([e]);
    const m = await onlyMessageFor(e.to[0]!);
    expect(m.subject).toBe(e.subject);
    expect(m.from).toEqual([{ address: "zoe@herald.test", name: "Zoë" }]);
    expect(m.text?.trim()).toBe("Ça va? ✓");
  });

  it("sends a batch over one connection; a refused recipient rejects only its email", async () => {
    const batch = [email(), email({ to: [address("reject")] }), email({ from: "blocked@herald.test" }), email()];
    const results = await relay().send(batch);
    expect(results.map((r) => r.status)).toEqual(["accepted", "rejected", "rejected", "accepted"]);
    expect(results[1]!.error).toMatch(/RCPT TO refused: 550/);
    expect(results[2]!.error).toMatch(/MAIL FROM refused: 550/);
    expect(await smtpMessages(batch[1]!.to[0]!)).toEqual([]);
    for (const e of [batch[0]!, batch[3]!]) expect((await onlyMessageFor(e.to[0]!)).messageId).toBe(`<${e.id}@herald.test>`);
  });

  it("rejects an email with a header line break without sending it, and sends the rest", async () => {
    const bad = email({ headers: { "X-Evil": "x\r\nBcc: victim@example.test" } });
    const good = email();
    expect((await relay().send([bad, good])).map((r) => r.status)).toEqual(["rejected", "accepted"]);
    expect(await smtpMessages(bad.to[0]!)).toEqual([]);
  });

  it("reports wrong credentials (535) and a missing login (530) as auth", async () => {
    const wrong = await failure(relay({}, { ...login, password: "wrong password" }).send([email()]));
    expect(wrong.kind).toBe("auth");
    expect(wrong.message).toMatch(/535/);
    expect(wrong.message).not.toContain("wrong password");
    expect((await failure(relay({}, null).send([email()]))).kind).toBe("auth");
  });

  it("takes mail without AUTH where the server allows it", async () => {
    const e = email();
    const open = createProvider("smtp", { host: "127.0.0.1", port: s.smtp.openPort, security: "none" }, null);
    expect((await open.send([e]))[0]!.status).toBe("accepted");
    expect((await onlyMessageFor(e.to[0]!)).user).toBeNull();
  });

  it("stops the batch on a 4xx reply and keeps what was already accepted", async () => {
    const batch = [email(), email({ to: [address("throttle")] }), email()];
    const err = await failure(relay().send(batch));
    expect(err).toBeInstanceOf(PartialBatchError);
    expectSafe(err, "rate_limited");
    expect((err as PartialBatchError).settled.map((r) => r?.status)).toEqual(["accepted", undefined, undefined]);
    expect(await smtpMessages(batch[2]!.to[0]!)).toEqual([]);
    const busy = await failure(relay().send([email({ from: "busy@herald.test" })]));
    expectSafe(busy, "unavailable");
  });

  it("times out against a server that never greets, and is unavailable when nothing listens: both safe", async () => {
    const silent = createProvider("smtp", { host: "127.0.0.1", port: s.silentPort, security: "none", timeout_ms: 300 }, login);
    expectSafe(await failure(silent.send([email()])), "timeout");
    const closed = createProvider("smtp", { host: "127.0.0.1", port: s.closedPort, security: "none" }, login);
    expectSafe(await failure(closed.send([email()])), "unavailable");
  });

  it("insists on STARTTLS when configured, and fails cleanly when TLS cannot be established", async () => {
    const plain = createProvider("smtp", { host: "127.0.0.1", port: s.smtp.port, security: "starttls" }, login);
    const notOffered = await failure(plain.send([email()]));
    expect([notOffered.kind, notOffered.message]).toEqual(["misconfigured", expect.stringContaining("STARTTLS")]);
    const e = email();
    const selfSigned = createProvider(
      "smtp",
      { host: "127.0.0.1", port: s.smtp.starttlsPort, security: "starttls", timeout_ms: 2000 },
      login,
    );
    expectSafe(await failure(selfSigned.send([e])), "unavailable");
    expect(await smtpMessages(e.to[0]!)).toEqual([]);
    const implicitTls = createProvider("smtp", { host: "127.0.0.1", port: s.smtp.port, security: "tls", timeout_ms: 2000 }, login);
    expectSafe(await failure(implicitTls.send([email()])), "unavailable");
  });

  describe("around the end of data (scripted relay)", () => {
    const faulty = (timeout_ms = 2000) =>
      createProvider("smtp", { host: "127.0.0.1", port: s.faultSmtpPort, security: "none", timeout_ms }, null);

    it.each(["drop", "reset"])("reads a connection lost (%s) after the end of data as ambiguous for that email only", async (how) => {
      const batch = [email(), email({ to: [address(`fault-${how}`)] }), email()];
      const err = await failure(faulty().send(batch));
      expect(err).toBeInstanceOf(PartialBatchError);
      expectAmbiguous(err, [batch[1]!.id]);
      expect((err as PartialBatchError).settled.map((r) => r?.status)).toEqual(["accepted", undefined, undefined]);
      expect((await smtpFaultLog(batch[0]!.to[0]!)).map((m) => m.outcome)).toEqual(["accepted"]);
      expect((await smtpFaultLog(batch[1]!.to[0]!)).map((m) => m.outcome)).toEqual([how]);
      expect(await smtpFaultLog(batch[2]!.to[0]!)).toEqual([]);
    });

    it("reads a missing reply to the end of data as ambiguous", async () => {
      const e = email({ to: [address("fault-silent")] });
      const err = await failure(faulty(300).send([e]));
      expect(err).not.toBeInstanceOf(PartialBatchError);
      expectAmbiguous(err, [e.id]);
      expect(err.message).toMatch(/end of data.*timed out/);
    });

    it("reads a 4xx reply to the end of data as not accepted", async () => {
      const batch = [email(), email({ to: [address("fault-450")] })];
      const err = await failure(faulty().send(batch));
      expect(err).toBeInstanceOf(PartialBatchError);
      expectSafe(err, "unavailable");
      expect((err as PartialBatchError).settled.map((r) => r?.status)).toEqual(["accepted", undefined]);
    });

    it("reads a connection lost before the end of data was sent as safe", async () => {
      const inData = [email(), email({ to: [address("fault-closedata")] }), email()];
      const err = await failure(faulty().send(inData));
      expect(err).toBeInstanceOf(PartialBatchError);
      expectSafe(err, "unavailable");
      expect((err as PartialBatchError).settled.map((r) => r?.status)).toEqual(["accepted", undefined, undefined]);
      expect(await smtpFaultLog(inData[1]!.to[0]!)).toEqual([]);
      const atRcpt = email({ to: [address("fault-rcptclose")] });
      expectSafe(await failure(faulty().send([atRcpt])), "unavailable");
    });

    it("sends a clean batch through the relay", async () => {
      const batch = [email(), email()];
      expect((await faulty().send(batch)).map((r) => r.status)).toEqual(["accepted", "accepted"]);
    });
  });

  it("refuses plaintext or port 25 to anything but a loopback host", () => {
    expect(() => createProvider("smtp", { host: "smtp.example.com", port: 2525, security: "none" }, null)).toThrow(/security/);
    expect(() => createProvider("smtp", { host: "smtp.example.com", port: 25, security: "starttls" }, null)).toThrow(/port/);
    expect(createProvider("smtp", { host: "smtp.example.com" }, login).maxBatchSize).toBeGreaterThan(0);
  });
});
