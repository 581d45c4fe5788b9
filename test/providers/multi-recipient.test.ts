// SendGrid's multi-recipient form: emails that share from, reply-to and parts go out as one Mail
// Send request with one personalization each (their content factored into a shared template and
// per-recipient substitutions). The stand-in checks the documented limits and applies the
// substitutions, so each recipient's delivered email can be compared with what herald rendered.
import { describe, expect, it } from "vitest";
import { createProvider, PartialBatchError } from "../../src/providers";
import { accepted } from "../../src/providers/errors";
import { factor, join, runCalls, type Call } from "../../src/providers/multi-recipient";
import { ProviderError, type OutboundEmail, type SendResult } from "../../src/providers/types";
import { address, capturedAny, email, expectAmbiguous, expectSafe, failure, stubs, type Captured } from "./helpers";

const s = stubs();
const sendgrid = (config: Record<string, unknown> = {}, apiKey = s.sendgrid.apiKey) =>
  createProvider("sendgrid", { base_url: s.sendgrid.baseUrl, ...config }, { api_key: apiKey });

const token = (n: number) =>
  Array.from(
    crypto.getRandomValues(new Uint8Array(n)),
    (b) => "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[b & 63],
  ).join("");
const LAYOUT = Array.from(
  { length: 60 },
  (_, i) =>
    `<tr><td class="row${i % 4}" style="padding:8px">Paragraph ${i}: the same for everyone, with "quotes", &amp; and ünïcödé ✓</td></tr>\n`,
);

/** An email like a rendered campaign email: merge fields, tracking links, its own unsubscribe link and headers. */
function campaignEmail(k: number, overrides: Partial<OutboundEmail> = {}): OutboundEmail {
  const e = email({ to: [address(overrides.to ? "unused" : `mr${k}`)] });
  const name = k % 7 === 0 ? "" : `Reader ${k}${"😀".repeat(k % 3)}`;
  const unsubscribe = `https://herald.test/u/${token(120)}`;
  let html = `<!doctype html><html><body><p>Hello ${name},</p><table>`;
  LAYOUT.forEach((row, i) => {
    html += row;
    if (i % 8 === 0) html += `<a href="https://herald.test/t/c/${token(190)}">Read part ${i / 8}</a>`;
  });
  html += `</table><p><a href="${unsubscribe}">Unsubscribe</a></p><img src="https://herald.test/t/o/${token(150)}" width="1" height="1"></body></html>`;
  return {
    ...e,
    replyTo: "Support <help@herald.test>",
    subject: `Hello ${name || "there"}, your May digest`,
    html,
    text: `Hello ${name},\n\n${"Plain text, the same for everyone.\n".repeat(20)}\nUnsubscribe: ${unsubscribe}\n`,
    headers: {
      "X-Herald-Campaign": "c-1",
      "X-Herald-Message": e.id,
      "List-Unsubscribe": `<${unsubscribe}>, <mailto:unsubscribe@herald.test?subject=unsubscribe>`,
      "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    },
    ...overrides,
  };
}

const mailbox = (text: string) => {
  const m = /^(.*?)\s*<([^>]+)>$/.exec(text);
  return m ? { email: m[2]!, name: m[1]! } : { email: text };
};

/** Each email was delivered exactly as rendered, once, and nothing else reached its recipients. */
function expectDelivered(requests: Captured[], batch: OutboundEmail[]): void {
  for (const r of requests) expect(r.violations, r.path).toEqual([]);
  for (const e of batch) {
    const got = requests.flatMap((r) => r.delivered ?? []).filter((d) => d.to.includes(e.to[0]!));
    expect(got, e.to[0]).toHaveLength(1);
    expect(got[0]).toEqual({
      to: e.to,
      cc: e.cc ?? [],
      bcc: e.bcc ?? [],
      from: mailbox(e.from),
      ...(e.replyTo ? { replyTo: mailbox(e.replyTo) } : {}),
      subject: e.subject,
      ...(e.text ? { text: e.text } : {}),
      ...(e.html ? { html: e.html } : {}),
      headers: e.headers,
      customArgs: { herald_id: e.id },
    });
  }
}

const recipientsOf = (batch: OutboundEmail[]) => batch.flatMap((e) => [...e.to, ...(e.cc ?? [])]);
const personalizations = (r: Captured) => r.delivered?.length ?? 0;

describe("sendgrid: several emails in one request", () => {
  it("sends 120 distinct emails in one request, and each recipient gets exactly what was rendered for them", async () => {
    const batch = Array.from({ length: 120 }, (_, k) => campaignEmail(k));
    const results = await sendgrid().send(batch);
    expect(results.map((r) => [r.id, r.status])).toEqual(batch.map((e) => [e.id, "accepted"]));
    expect(new Set(results.map((r) => r.providerMessageId)).size).toBe(1);
    const requests = await capturedAny("sendgrid", recipientsOf(batch));
    expect(requests).toHaveLength(Math.ceil(120 / 1000));
    expect(requests[0]!.recipients).toHaveLength(120);
    expectDelivered(requests, batch);
  });

  it("takes at most 1,000 personalizations a request", async () => {
    const batch = Array.from({ length: 1200 }, (_, k) =>
      email({
        to: [address(`many${k}`)],
        subject: `Issue ${k}`,
        html: `<p>Hi ${k}</p>${LAYOUT.slice(0, 5).join("")}`,
        text: `Hi ${k}`,
        headers: { "X-Herald-Message": `m-${k}` },
      }),
    );
    const provider = sendgrid();
    expect(provider.maxBatchSize).toBe(1000);
    const results = await provider.send(batch);
    expect(results.every((r) => r.status === "accepted")).toBe(true);
    const requests = await capturedAny("sendgrid", recipientsOf(batch));
    expect(requests.map(personalizations).sort((a, b) => b - a)).toEqual([1000, 200]);
    expectDelivered(requests, batch);
  });

  it("takes at most 1,000 recipients (to + cc + bcc) a request", async () => {
    const batch = Array.from({ length: 600 }, (_, k) =>
      email({ to: [address(`cc${k}`)], cc: [address(`copy${k}`)], subject: `Copy ${k}`, text: `Text ${k}`, html: `<p>${k}</p>` }),
    );
    expect((await sendgrid().send(batch)).every((r) => r.status === "accepted")).toBe(true);
    const requests = await capturedAny("sendgrid", recipientsOf(batch));
    expect(requests.map(personalizations).sort((a, b) => b - a)).toEqual([500, 100]);
    expect(requests.map((r) => r.recipients.length).sort((a, b) => b - a)).toEqual([1000, 200]);
    expectDelivered(requests, batch);
  });

  it("puts an address only once in a request", async () => {
    const shared = address("twice");
    const batch = [
      campaignEmail(1),
      campaignEmail(2, { to: [shared] }),
      campaignEmail(3),
      campaignEmail(4, { to: [shared] }),
      campaignEmail(5),
    ];
    expect((await sendgrid().send(batch)).every((r) => r.status === "accepted")).toBe(true);
    const requests = await capturedAny("sendgrid", recipientsOf(batch));
    expect(requests.map(personalizations).sort()).toEqual([1, 4]);
    for (const r of requests) expect(r.violations).toEqual([]);
    const both = requests.flatMap((r) => r.delivered!).filter((d) => d.to.includes(shared));
    expect(both.map((d) => d.customArgs.herald_id).sort()).toEqual([batch[1]!.id, batch[3]!.id].sort());
    expect(both.map((d) => d.html).sort()).toEqual([batch[1]!.html, batch[3]!.html].sort());
    expectDelivered(
      requests,
      batch.filter((e) => e.to[0] !== shared),
    );
  });

  it("delivers text that looks like substitution tags, escapes and surrogate pairs unchanged", async () => {
    const tricky = (k: number) =>
      campaignEmail(k, {
        subject: `-herald- %name% {{x}} ${k}`,
        text: `Dear -firstName- %recipient.name% {{{raw}}} [Unsubscribe] <%asm_group_unsubscribe_raw_url%>\n\\ "q" \t ${"😀😁".slice(0, 1 + (k % 4))} ${k}\n`,
        html: `<p>-herald-${k}- ${"\u{1F600}".repeat(k % 3)}\u{1F601} é${k % 2 ? "\u00e9" : "e\u0301"} </p>${LAYOUT.join("")}<p>\\"${k}"</p>`,
      });
    const batch = Array.from({ length: 12 }, (_, k) => tricky(k));
    expect((await sendgrid().send(batch)).every((r) => r.status === "accepted")).toBe(true);
    const requests = await capturedAny("sendgrid", recipientsOf(batch));
    expect(requests).toHaveLength(1);
    expectDelivered(requests, batch);
  });
});

describe("sendgrid: what goes one email a request, as before", () => {
  it("sends an email whose own content passes the 10,000-byte substitution limit alone", async () => {
    const batch = Array.from({ length: 6 }, (_, k) => campaignEmail(k));
    batch[2] = { ...batch[2]!, html: `${batch[2]!.html}<p>${token(12_000)}</p>` };
    expect((await sendgrid().send(batch)).every((r) => r.status === "accepted")).toBe(true);
    const requests = await capturedAny("sendgrid", recipientsOf(batch));
    expect(requests.map(personalizations).sort()).toEqual([1, 5]);
    const alone = requests.find((r) => r.recipients.includes(batch[2]!.to[0]!))!;
    expect(alone.recipients).toEqual(batch[2]!.to);
    expectDelivered(requests, batch);
  });

  it("groups by from, reply-to and parts; an email alone in its group, with an empty subject or a reserved header goes alone", async () => {
    const batch = [
      campaignEmail(1),
      campaignEmail(2, { from: "Other <other@herald.test>" }),
      campaignEmail(3),
      campaignEmail(4, { from: "Other <other@herald.test>" }),
      campaignEmail(5, { replyTo: undefined }),
      campaignEmail(6, { text: null }),
      campaignEmail(7),
    ];
    const results = await sendgrid().send(batch);
    expect(results.map((r) => r.status)).toEqual(batch.map(() => "accepted"));
    const requests = await capturedAny("sendgrid", recipientsOf(batch));
    const together = requests.map((r) => r.recipients.map((to) => batch.findIndex((e) => e.to[0] === to) + 1).sort());
    expect(together.sort()).toEqual([[1, 3, 7], [2, 4], [5], [6]]);
    expectDelivered(requests, batch);

    // SendGrid requires a subject and refuses these headers: one request each, refused as before.
    const odd = [
      campaignEmail(8, { subject: "" }),
      campaignEmail(9, { headers: { "X-Herald-Message": "m", Subject: "x" } }),
      campaignEmail(10),
      campaignEmail(11),
    ];
    expect((await sendgrid().send(odd)).map((r) => r.status)).toEqual(["rejected", "rejected", "accepted", "accepted"]);
    const oddRequests = await capturedAny("sendgrid", recipientsOf(odd));
    expect(oddRequests.map(personalizations).sort()).toEqual([1, 1, 2]);
  });
});

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
  const deferred = () => {
    let resolve!: () => void;
    let reject!: (err: unknown) => void;
    const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
    return { promise, resolve, reject };
  };
  const tick = () => new Promise((r) => setTimeout(r, 0));

  it("names every email of an ambiguous call, even when a safe failure came first, and none of the calls not started", async () => {
    const batch = Array.from({ length: 7 }, () => email());
    const gates = [deferred(), deferred(), deferred()];
    const started: number[] = [];
    const call = (n: number, slots: number[]): Call => ({
      emails: slots.map((i) => batch[i]!),
      run: async (settle) => {
        started.push(n);
        await gates[n]!.promise;
        slots.forEach((i, k) => settle(k, accepted(batch[i]!.id)));
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
