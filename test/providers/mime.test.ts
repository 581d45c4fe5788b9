import { describe, expect, it } from "vitest";
import { buildMime, encodedWords, MimeError, quotedPrintable, rfc5322Date } from "../../src/providers/mime";
import { dotStuff } from "../../src/providers/smtp";
import { email } from "./helpers";

function decodeWords(value: string): string {
  return value
    .split(/\r\n /)
    .map((w) => /^=\?UTF-8\?B\?(.*)\?=$/.exec(w)![1]!)
    .map((b) => new TextDecoder().decode(Uint8Array.from(atob(b), (c) => c.charCodeAt(0))))
    .join("");
}

describe("buildMime", () => {
  it("builds multipart/alternative with text first, and the required headers", () => {
    const e = email({ id: "0190b1b2-7c1e-7a3b-9f00-0123456789ab", cc: ["cc@example.test"], replyTo: "Support <help@herald.test>" });
    const { raw, messageId } = buildMime(e, { now: new Date("2026-03-01T08:05:09Z") });
    expect(messageId).toBe("<0190b1b2-7c1e-7a3b-9f00-0123456789ab@herald.test>");
    const [head, body] = [raw.slice(0, raw.indexOf("\r\n\r\n")), raw.slice(raw.indexOf("\r\n\r\n") + 4)];
    expect(head).toContain("From: Herald Tests <sender@herald.test>");
    expect(head).toContain(`To: ${e.to[0]}`);
    expect(head).toContain("Cc: cc@example.test");
    expect(head).toContain("Reply-To: Support <help@herald.test>");
    expect(head).toContain("Date: Sun, 01 Mar 2026 08:05:09 +0000");
    expect(head).toContain(`Message-ID: ${messageId}`);
    expect(head).toContain("MIME-Version: 1.0");
    expect(head).toContain("List-Unsubscribe: <https://herald.test/u/abc>");
    expect(head).not.toMatch(/^Bcc:/im);
    const boundary = /boundary="([^"]+)"/.exec(head)![1]!;
    expect(head).toContain("Content-Type: multipart/alternative;\r\n boundary=");
    const parts = body.split(`--${boundary}`);
    expect(parts).toHaveLength(4);
    expect(parts[1]).toContain("Content-Type: text/plain; charset=UTF-8");
    expect(parts[2]).toContain("Content-Type: text/html; charset=UTF-8");
    expect(parts[3]).toBe("--\r\n");
    expect(raw.split("\r\n").every((l) => l.length <= 78)).toBe(true);
    expect(raw.replace(/\r\n/g, "")).not.toMatch(/[\r\n]/);
  });

  it("sends a single part when there is one body, and honours messageIdDomain", () => {
    const { raw, messageId } = buildMime(email({ text: null }), { messageIdDomain: "mail.herald.test" });
    expect(messageId).toMatch(/@mail\.herald\.test>$/);
    expect(raw).toContain("Content-Type: text/html; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n");
    expect(raw).not.toContain("multipart");
  });

  it("encodes non-ASCII subjects and display names as RFC 2047 words", () => {
    const subject = "Grüße aus Köln — über 30 % Rabatt für Sie, nur heute und nur hier 🎉";
    const { raw } = buildMime(email({ subject, from: "Zoë Ärger <zoe@herald.test>", to: ['"Doe, John" <john@example.test>'] }));
    const value = /^Subject: (.*(?:\r\n .*)*)/m.exec(raw)![1]!;
    for (const word of value.split("\r\n ")) expect(word.length).toBeLessThanOrEqual(75);
    expect(decodeWords(value)).toBe(subject);
    expect(raw).toMatch(/^From: =\?UTF-8\?B\?[^?]+\?= <zoe@herald\.test>/m);
    expect(raw).toContain('To: "Doe, John" <john@example.test>');
  });

  it("refuses header injection and headers herald owns", () => {
    expect(() => buildMime(email({ subject: "hi\r\nBcc: victim@example.test" }))).toThrow(MimeError);
    expect(() => buildMime(email({ headers: { "X-Evil": "a\nb" } }))).toThrow(MimeError);
    expect(() => buildMime(email({ headers: { "Content-Type": "text/plain" } }))).toThrow(MimeError);
    expect(() => buildMime(email({ headers: { "Bad Name": "x" } }))).toThrow(MimeError);
  });
});

describe("quotedPrintable", () => {
  it("encodes =, non-ASCII and trailing whitespace, with CRLF and soft breaks under 77 characters", () => {
    expect(quotedPrintable("a=b é\nend ")).toBe("a=3Db =C3=A9\r\nend=20");
    const long = quotedPrintable("x".repeat(200));
    expect(long.split("\r\n").every((l) => l.length <= 76)).toBe(true);
    expect(long.replace(/=\r\n/g, "")).toBe("x".repeat(200));
  });
});

describe("encodedWords and dates", () => {
  it("never splits a character across words", () => {
    const text = "€".repeat(40);
    expect(decodeWords(encodedWords(text))).toBe(text);
  });

  it("formats RFC 5322 dates with two-digit days", () => {
    expect(rfc5322Date(new Date("2026-12-05T23:59:01Z"))).toBe("Sat, 05 Dec 2026 23:59:01 +0000");
  });
});

describe("dotStuff", () => {
  it("doubles a leading dot on every line and ends with CRLF", () => {
    expect(dotStuff(".a\r\nb\r\n.\r\n..c")).toBe("..a\r\nb\r\n..\r\n...c\r\n");
  });
});
