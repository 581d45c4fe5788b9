// SendGrid's multi-recipient form: emails that share from, reply-to and parts go out as one Mail
// Send request with one personalization each (their content factored into a shared template and
// per-recipient substitutions). The stand-in checks the documented limits and applies the
// substitutions, so each recipient's delivered email can be compared with what herald rendered.
// This suite: what goes together in one request, and what goes alone.
import { describe, expect, it } from "vitest";
import { address, capturedAny, email } from "./helpers";
import { campaignEmail, expectDelivered, LAYOUT, personalizations, recipientsOf, sendgrid, token } from "./sendgrid-batch";

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
