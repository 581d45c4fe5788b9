// Shared by the inbound webhook route tests (test/inbound-route/*): providers with webhook secrets set.
import { createProvider } from "../inbound-helpers";
import { newTenant } from "../helpers";

/** A new tenant with a Mailgun provider whose webhooks are signed with a fresh signing key. */
export async function mailgunProvider() {
  const { apiKey, tenantId } = await newTenant();
  const signingKey = `key-${crypto.randomUUID()}`;
  const { id } = await createProvider(apiKey, {
    kind: "mailgun",
    config: { domain: "mg.example.com" },
    credentials: { api_key: "mg-api", webhook_signing_key: signingKey },
  });
  return { apiKey, tenantId, signingKey, id };
}

/** A new tenant with an SES provider that takes notifications from `topic` only. */
export async function sesProvider(topic: string) {
  const { apiKey } = await newTenant();
  return createProvider(apiKey, {
    kind: "ses",
    config: { region: "us-east-1", webhook_topic_arns: [topic] },
    credentials: { access_key_id: "AKIAIOSFODNN7EXAMPLE", secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" },
  });
}
