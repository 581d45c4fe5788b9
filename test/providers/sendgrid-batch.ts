// SendGrid's multi-recipient form, shared by its suites: the provider on its stand-in, campaign-like
// emails (merge fields, tracking links, an unsubscribe link each) and the check that each recipient
// got exactly what herald rendered for them.
import { expect } from "vitest";
import { createProvider } from "../../src/providers";
import type { OutboundEmail } from "../../src/providers/types";
import { address, email, stubs, type Captured } from "./helpers";

const s = stubs();
export const sendgrid = (config: Record<string, unknown> = {}, apiKey = s.sendgrid.apiKey) =>
  createProvider("sendgrid", { base_url: s.sendgrid.baseUrl, ...config }, { api_key: apiKey });

export const token = (n: number) =>
  Array.from(
    crypto.getRandomValues(new Uint8Array(n)),
    (b) => "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[b & 63],
  ).join("");
export const LAYOUT = Array.from(
  { length: 60 },
  (_, i) =>
    `<tr><td class="row${i % 4}" style="padding:8px">Paragraph ${i}: the same for everyone, with "quotes", &amp; and ünïcödé ✓</td></tr>\n`,
);

/** An email like a rendered campaign email: merge fields, tracking links, its own unsubscribe link and headers. */
export function campaignEmail(k: number, overrides: Partial<OutboundEmail> = {}): OutboundEmail {
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
export function expectDelivered(requests: Captured[], batch: OutboundEmail[]): void {
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

export const recipientsOf = (batch: OutboundEmail[]) => batch.flatMap((e) => [...e.to, ...(e.cc ?? [])]);
export const personalizations = (r: Captured) => r.delivered?.length ?? 0;
