export type InboundProviderKind = "ses" | "sendgrid" | "mailgun" | "postmark" | "resend";

export type HeraldEventType = "delivered" | "bounced" | "complained" | "opened" | "clicked" | "unsubscribed";

export interface InboundEvent {
  /** Provider-unique id used for dedupe (SNS MessageId[+index], sg_event_id, mailgun event-data.id, svix-id, postmark: RecordType+MessageID+timestamp). */
  providerEventId: string;
  type: HeraldEventType;
  /** herald's message id when the provider echoes it back; else undefined. */
  heraldMessageId?: string;
  providerMessageId?: string;
  /** The recipient. */
  email?: string;
  /** ISO 8601. */
  occurredAt: string;
  /** For bounced. */
  bounceType?: "hard" | "soft";
  /** For clicked. */
  url?: string;
  /** A few small provider fields worth keeping (never the whole payload). */
  raw?: unknown;
}

export interface InboundRequest {
  method: string;
  url: string;
  headers: Headers;
  /** The raw body, exactly as received: signatures cover these bytes, not a re-serialisation. */
  body: string;
}

export interface InboundSecrets {
  /** base64 DER SPKI of the ECDSA P-256 key (SendGrid "Signed Event Webhook" verification key). */
  sendgridPublicKey?: string;
  mailgunSigningKey?: string;
  postmarkUsername?: string;
  postmarkPassword?: string;
  /** "whsec_<base64>" */
  resendWebhookSecret?: string;
  /** Optional allowlist of SNS topics. */
  sesTopicArns?: string[];
}

export interface VerifyOptions {
  /** Epoch milliseconds; defaults to Date.now(). */
  now?: number;
  /** Used for the SNS certificate download and the SubscribeURL confirmation. */
  fetchText: (url: string) => Promise<string>;
  /** Default: DEFAULT_SNS_HOST in ses.ts, sns.<region>.amazonaws.com(.cn). */
  snsCertHost?: RegExp;
}

/**
 * What identifies one signed request, for providers whose signature covers a one-time token
 * (Mailgun): once a request with it has been answered 2xx, the same token again is a replay.
 */
export interface ReplayGuard {
  token: string;
  /** How long the token must be remembered: until its timestamp leaves the provider's window. */
  ttlSeconds: number;
}

export type InboundResult =
  | {
      ok: true;
      events: InboundEvent[];
      /** SNS SubscriptionConfirmation handled (SubscribeURL fetched) */
      confirmed?: boolean;
      replay?: ReplayGuard;
    }
  /** reason: short, safe to show (no secrets). */
  | { ok: false; status: 400 | 401; reason: string };

export type Verifier = (req: InboundRequest, secrets: InboundSecrets, opts: VerifyOptions) => Promise<InboundResult>;
