import { domainOf, parseMailbox, type Mailbox } from "./address";
import { utf8 } from "../lib/encoding";
import type { OutboundEmail } from "./types";

/** The email cannot be expressed as a message (a header with a line break, a non-ASCII address…). */
export class MimeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MimeError";
  }
}

export interface MimeOptions {
  now?: Date;
  /** The right-hand side of Message-ID; the sender's domain by default. */
  messageIdDomain?: string;
}

export interface MimeMessage {
  /** CRLF line endings, 7-bit clean; SMTP dot-stuffing is the transport's job. */
  raw: string;
  /** With angle brackets, as in the header. */
  messageId: string;
}

/** herald sets these itself; an extra header of the same name would make a message with two. */
const RESERVED = new Set([
  "from",
  "to",
  "cc",
  "bcc",
  "reply-to",
  "subject",
  "date",
  "message-id",
  "mime-version",
  "content-type",
  "content-transfer-encoding",
]);
const ASCII_PRINTABLE = /^[\t\x20-\x7e]*$/;
const ATOM_SPECIALS = /[()<>[\]:;@\\,."]/;
const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

const pad = (n: number) => String(n).padStart(2, "0");

/** RFC 5322 date-time, in UTC. */
export function rfc5322Date(d: Date): string {
  return `${DAYS[d.getUTCDay()]}, ${pad(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}

function b64(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/**
 * RFC 2047 B-encoded words, each under 75 characters. Text is split between code points, never inside
 * one, so every word decodes to valid UTF-8 on its own.
 */
export function encodedWords(text: string): string {
  const words: string[] = [];
  let chunk = "";
  for (const ch of text) {
    if (utf8(chunk + ch).length > 45) {
      words.push(chunk);
      chunk = "";
    }
    chunk += ch;
  }
  if (chunk) words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${b64(utf8(w))}?=`).join("\r\n ");
}

/** Folds an ASCII value at spaces so lines stay near 78 characters. */
function fold(name: string, value: string): string {
  let line = `${name}: `;
  let out = "";
  for (const [i, word] of value.split(" ").entries()) {
    const piece = i === 0 ? word : ` ${word}`;
    if (line.length + piece.length > 78 && line.trim() !== `${name}:`) {
      out += `${line}\r\n`;
      line = piece.startsWith(" ") ? piece : ` ${piece}`;
    } else line += piece;
  }
  return out + line;
}

function header(name: string, value: string): string {
  if (/[\r\n\0]/.test(value)) throw new MimeError(`the ${name} header contains a line break`);
  if (!ASCII_PRINTABLE.test(value)) return `${name}: ${encodedWords(value)}`;
  if (value.length > 990) throw new MimeError(`the ${name} header is too long`);
  return fold(name, value);
}

function formatMailbox(m: Mailbox): string {
  if (!ASCII_PRINTABLE.test(m.email)) throw new MimeError("non-ASCII addresses need SMTPUTF8, which herald does not use");
  if (!m.name) return m.email;
  if (!ASCII_PRINTABLE.test(m.name)) return `${encodedWords(m.name)} <${m.email}>`;
  const name = ATOM_SPECIALS.test(m.name) ? `"${m.name.replace(/[\\"]/g, "\\$&")}"` : m.name;
  return `${name} <${m.email}>`;
}

function addressHeader(name: string, list: string[]): string {
  const boxes = list.map((text) => {
    const m = parseMailbox(text);
    if (!m) throw new MimeError(`the ${name} header has an invalid address`);
    return formatMailbox(m);
  });
  if (/[\r\n\0]/.test(list.join(""))) throw new MimeError(`the ${name} header contains a line break`);
  return `${name}: ${boxes.join(",\r\n ")}`;
}

/** Quoted-printable (RFC 2045 §6.7) of the UTF-8 text, with CRLF line breaks and 76-character lines. */
export function quotedPrintable(text: string): string {
  return text
    .replace(/\r\n|\r|\n/g, "\n")
    .split("\n")
    .map((line) => {
      const bytes = utf8(line);
      let out = "";
      let width = 0;
      bytes.forEach((b, i) => {
        const last = i === bytes.length - 1;
        const literal = (b >= 33 && b <= 126 && b !== 61) || ((b === 32 || b === 9) && !last);
        const token = literal ? String.fromCharCode(b) : `=${b.toString(16).toUpperCase().padStart(2, "0")}`;
        if (width + token.length > 75) {
          out += "=\r\n";
          width = 0;
        }
        out += token;
        width += token.length;
      });
      return out;
    })
    .join("\r\n");
}

function textPart(type: "plain" | "html", body: string): string {
  return `Content-Type: text/${type}; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n${quotedPrintable(body)}`;
}

function randomHex(bytes: number): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, "0")).join("");
}

const MSG_ID_LEFT = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+$/;

export function messageIdFor(email: OutboundEmail, domain?: string): string {
  const right = domain ?? domainOf(parseMailbox(email.from)?.email ?? "") ?? "herald.invalid";
  const left = MSG_ID_LEFT.test(email.id) ? email.id : `herald-${randomHex(12)}`;
  return `<${left}@${right}>`;
}

/** Builds the RFC 5322 message for one email: multipart/alternative when it has both bodies. */
export function buildMime(email: OutboundEmail, opts: MimeOptions = {}): MimeMessage {
  const messageId = messageIdFor(email, opts.messageIdDomain);
  const lines = [addressHeader("From", [email.from]), addressHeader("To", email.to)];
  if (email.cc?.length) lines.push(addressHeader("Cc", email.cc));
  if (email.replyTo) lines.push(addressHeader("Reply-To", [email.replyTo]));
  lines.push(
    header("Subject", email.subject),
    `Date: ${rfc5322Date(opts.now ?? new Date())}`,
    `Message-ID: ${messageId}`,
    "MIME-Version: 1.0",
  );
  for (const [name, value] of Object.entries(email.headers)) {
    if (!/^[!-9;-~]+$/.test(name)) throw new MimeError(`${JSON.stringify(name.slice(0, 40))} is not a header name`);
    if (RESERVED.has(name.toLowerCase())) throw new MimeError(`the ${name} header is set by herald and cannot be overridden`);
    lines.push(header(name, value));
  }
  let body: string;
  if (email.html && email.text) {
    // "=_" never occurs in quoted-printable output, so the boundary cannot collide with the content.
    const boundary = `=_herald_${randomHex(12)}`;
    lines.push(`Content-Type: multipart/alternative;\r\n boundary="${boundary}"`);
    body = [`--${boundary}`, textPart("plain", email.text), `--${boundary}`, textPart("html", email.html), `--${boundary}--`, ""].join(
      "\r\n",
    );
    return { raw: `${lines.join("\r\n")}\r\n\r\n${body}`, messageId };
  }
  const [type, content] = email.html ? (["html", email.html] as const) : (["plain", email.text ?? ""] as const);
  lines.push(`Content-Type: text/${type}; charset=UTF-8`, "Content-Transfer-Encoding: quoted-printable");
  body = `${quotedPrintable(content)}\r\n`;
  return { raw: `${lines.join("\r\n")}\r\n\r\n${body}`, messageId };
}
