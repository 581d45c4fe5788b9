import type { OutboundEmail } from "./types";

/**
 * An email's recipients in the lower-case JSON that herald's sink and Resend take: `to`, then `cc`
 * and `bcc` when not empty, and `reply_to` when set.
 */
export function envelopeJson(e: OutboundEmail) {
  return {
    to: e.to,
    ...(e.cc?.length ? { cc: e.cc } : {}),
    ...(e.bcc?.length ? { bcc: e.bcc } : {}),
    ...(e.replyTo ? { reply_to: e.replyTo } : {}),
  };
}
