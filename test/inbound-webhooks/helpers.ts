// Shared by the inbound webhook verification tests (test/inbound-webhooks/*): a fixed clock, the
// verifier with SES's topic allowlist filled in, and the SNS notifications the SES tests sign.
import {
  verifyInbound,
  type InboundProviderKind,
  type InboundRequest,
  type InboundSecrets,
  type VerifyOptions,
} from "../../src/webhooks/inbound";
import type { SnsSigner } from "../inbound-signers";

export const NOW = Date.parse("2025-06-01T12:00:00.000Z");
export const NOW_S = NOW / 1000;
export const NOT_CONFIGURED = { ok: false, status: 401, reason: "webhook verification is not configured for this provider" };

/** A fetchText that fails the test if called: the request must be rejected before any download. */
const noFetch = async (url: string): Promise<string> => {
  throw new Error(`unexpected fetch of ${url}`);
};

export const SES_TOPIC = "arn:aws:sns:us-east-1:123456789012:herald-events";

/** SES needs its topic allowlist; the SES tests run with the test topic unless they say otherwise. */
export function verify(kind: InboundProviderKind, req: InboundRequest, secrets: InboundSecrets = {}, opts: Partial<VerifyOptions> = {}) {
  const withTopic = kind === "ses" && !("sesTopicArns" in secrets) ? { ...secrets, sesTopicArns: [SES_TOPIC] } : secrets;
  return verifyInbound(kind, req, withTopic, { now: NOW, fetchText: noFetch, ...opts });
}

/** A fresh certificate URL on an SNS host. */
export const certUrl = () => `https://sns.us-east-1.amazonaws.com/SimpleNotificationService-${crypto.randomUUID()}.pem`;

/** Serves the signer's certificate (and answers SubscribeURL) while recording what was fetched. */
export function snsServer(s: SnsSigner) {
  const fetched: string[] = [];
  const fetchText = async (url: string) => {
    fetched.push(url);
    if (url === s.certUrl) return s.certificatePem;
    if (url.includes("Action=ConfirmSubscription")) return "<ConfirmSubscriptionResponse/>";
    throw new Error("404");
  };
  return { fetched, fetchText };
}

export const sesMessage = (event: Record<string, unknown>) =>
  JSON.stringify({
    mail: {
      timestamp: "2025-06-01T11:58:00.000Z",
      messageId: "0100018f-ses-message",
      destination: ["ann@example.com"],
      tags: { herald_id: ["msg_123"], "ses:configuration-set": ["herald"] },
    },
    ...event,
  });

export const notification = (message: string, extra: Record<string, string> = {}) => ({
  Type: "Notification",
  MessageId: crypto.randomUUID(),
  TopicArn: SES_TOPIC,
  Message: message,
  Timestamp: "2025-06-01T11:59:30.000Z",
  UnsubscribeURL: "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=x",
  ...extra,
});
