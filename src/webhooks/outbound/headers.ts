import type { Settings } from "../../config";
import type { WebhookSignatureScheme } from "../../db/schema";
import { DecryptionError } from "../../lib/crypto";
import { openWebhookSecret, webhookHeaders } from "./sign";
import { standardHeaders } from "./standard";

/**
 * How long a "standard" endpoint's replaced secret keeps signing after a rotation: a day, so a
 * receiver can deploy the new secret while every delivery still verifies under the old one. "herald"
 * endpoints keep their documented behaviour: the old secret stops signing at once.
 */
export const ROTATION_OVERLAP_SECONDS = 24 * 3600;

/** An endpoint's signing secrets, opened: the current one, and the replaced one during an overlap. */
export interface SigningKeys {
  scheme: WebhookSignatureScheme;
  secret: string;
  previousSecret: string | null;
}

/** When the secret replaced by a "standard" endpoint's rotation at `at` stops signing. */
export function overlapEnd(at: Date): Date {
  return new Date(at.getTime() + ROTATION_OVERLAP_SECONDS * 1000);
}

/**
 * Opens an endpoint's sealed secrets. Throws DecryptionError only for the current secret: a replaced
 * one that no longer opens (say it was the undecryptable secret a rotation fixed) is just not used.
 */
export async function openSigningKeys(
  endpointId: string,
  sealed: { scheme: WebhookSignatureScheme; secret: string; previousSecret: string | null },
  env: Settings,
): Promise<SigningKeys> {
  const secret = await openWebhookSecret(endpointId, sealed.secret, env);
  let previousSecret: string | null = null;
  if (sealed.scheme === "standard" && sealed.previousSecret) {
    try {
      previousSecret = await openWebhookSecret(endpointId, sealed.previousSecret, env);
    } catch (err) {
      if (!(err instanceof DecryptionError)) throw err;
    }
  }
  return { scheme: sealed.scheme, secret, previousSecret };
}

/** The signature headers of one attempt, in the endpoint's scheme. */
export function deliveryHeaders(keys: SigningKeys, deliveryId: string, timestamp: number, body: string): Promise<Record<string, string>> {
  if (keys.scheme === "standard") {
    const secrets = keys.previousSecret ? [keys.secret, keys.previousSecret] : [keys.secret];
    return standardHeaders(secrets, deliveryId, timestamp, body);
  }
  return webhookHeaders(keys.secret, deliveryId, timestamp, body);
}
