import { parseMailbox } from "./address";
import type { OutboundEmail } from "./types";

const HEADER_NAME = /^[!-9;-~]+$/;
const LINE_BREAK = /[\r\n\0]/;

/**
 * Why an email can never be sent by any provider, or undefined. Checked before anything goes on the
 * wire, so a broken email is rejected on its own instead of failing (or smuggling headers into) a batch.
 */
export function emailProblem(email: OutboundEmail): string | undefined {
  if (!parseMailbox(email.from)) return "the from address is not a valid mailbox";
  const recipients = [...email.to, ...(email.cc ?? []), ...(email.bcc ?? [])];
  if (email.to.length === 0) return "the email has no recipients";
  const bad = recipients.find((r) => !parseMailbox(r));
  if (bad !== undefined) return "a recipient is not a valid mailbox";
  if (email.replyTo !== undefined && !parseMailbox(email.replyTo)) return "the reply-to address is not a valid mailbox";
  for (const [field, value] of [
    ["from", email.from],
    ["subject", email.subject],
    ["reply-to", email.replyTo ?? ""],
    ...recipients.map((r) => ["recipient", r]),
  ] as const) {
    if (LINE_BREAK.test(value)) return `the ${field} contains a line break`;
  }
  for (const [name, value] of Object.entries(email.headers)) {
    if (!HEADER_NAME.test(name)) return `the header name ${JSON.stringify(name.slice(0, 40))} is not valid`;
    if (LINE_BREAK.test(value)) return `the ${name} header contains a line break`;
  }
  if (!email.html && !email.text) return "the email has neither an html nor a text body";
  return undefined;
}
