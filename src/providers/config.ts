import { z } from "zod";
import { isLoopback, normalizeHost } from "../lib/destination";

/**
 * Loopback hosts are where local capture servers live; plaintext is allowed only there. Whether a
 * deployment may reach them at all is decided by src/lib/destination.ts (DEV_ALLOW_LOOPBACK).
 */
export function isLoopbackHost(host: string): boolean {
  const normalized = normalizeHost(host);
  return normalized !== undefined && isLoopback(normalized);
}

export const TimeoutMs = z.number().int().min(100).max(120_000).optional();

/** An API base URL: HTTPS, or plain HTTP to a loopback stand-in (tests, local development). */
export const BaseUrl = z
  .url({ protocol: /^https?$/ })
  .refine((value) => {
    const url = new URL(value);
    return url.protocol === "https:" || isLoopbackHost(url.hostname);
  }, "must be https (plain http only to a loopback host)")
  .transform((value) => value.replace(/\/+$/, ""));

export const ApiKey = z.string().trim().min(1).max(500);

// --- Inbound webhook secrets (optional; see README "Inbound provider webhooks") -----------------

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * SendGrid's "Signed Event Webhook" verification key: base64 DER SPKI as the dashboard shows it
 * (PEM armour and line breaks are tolerated). Public, so it lives in config.
 */
export const SendgridWebhookPublicKey = z
  .string()
  .trim()
  .max(2000)
  .refine((text) => {
    const bare = text.replace(/-----(BEGIN|END) PUBLIC KEY-----/g, "").replace(/\s+/g, "");
    // A DER SEQUENCE starts with 0x30, which is "M" as the first base64 character.
    return bare.length >= 40 && bare.length % 4 === 0 && BASE64.test(bare) && bare.startsWith("M");
  }, "must be the base64 public key from SendGrid's Signed Event Webhook settings");

/** Mailgun's HTTP webhook signing key (Sending → Webhooks → HTTP webhook signing key). */
export const MailgunWebhookSigningKey = z.string().trim().min(1).max(500);

/** The user and password embedded in the Postmark webhook URL (HTTP Basic auth); given together. */
export const PostmarkWebhookUsername = z
  .string()
  .min(1)
  .max(200)
  .refine((user) => !user.includes(":"), "must not contain a colon (HTTP Basic auth splits there)");
export const PostmarkWebhookPassword = z.string().min(1).max(500);

/** A Svix signing secret, as Resend shows it: whsec_<base64>. */
export const ResendWebhookSecret = z
  .string()
  .trim()
  .max(500)
  .regex(/^whsec_[A-Za-z0-9+/]+={0,2}$/, "must be the whsec_… signing secret Resend shows for the webhook");

/** SNS topics whose notifications an SES provider accepts; without it any SNS topic is accepted. */
export const SesWebhookTopicArns = z
  .array(
    z
      .string()
      .trim()
      .regex(/^arn:aws(-[a-z]+)*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/, "must be an SNS topic ARN"),
  )
  .min(1)
  .max(20);

/** Postmark's webhook user and password only work as a pair. */
export function bothOrNeither(
  value: { webhook_username?: string | undefined; webhook_password?: string | undefined },
  ctx: z.RefinementCtx,
): void {
  if ((value.webhook_username === undefined) !== (value.webhook_password === undefined)) {
    const missing = value.webhook_username === undefined ? "webhook_username" : "webhook_password";
    ctx.addIssue({ code: "custom", path: [missing], message: "webhook_username and webhook_password are given together" });
  }
}
