import { utf8 } from "../../lib/encoding";
import { hmacKey, toBase64 } from "./sign";

/**
 * The Standard Webhooks scheme (https://www.standardwebhooks.com, symmetric signatures), used by
 * endpoints whose signature_scheme is "standard". Every delivery carries:
 *
 *   webhook-id:        the delivery's id. The spec has it stay the same when a message is sent again,
 *                      so retries and manual redeliveries of one delivery share it (receivers dedupe on it).
 *   webhook-timestamp: unix seconds when this attempt was signed
 *   webhook-signature: "v1," + base64 HMAC-SHA256 of `${id}.${timestamp}.${body}`, one per signing
 *                      secret, space-separated (two during a rotation's overlap)
 *
 * Secrets are the same "whsec_" + base64 of 32 random bytes as herald's scheme (the spec asks for
 * 24 to 64 bytes), keyed the same way, so switching an endpoint's scheme needs no new secret. Herald
 * signs with WebCrypto; receivers verify with any Standard Webhooks library (`standardwebhooks` on npm).
 */

const STANDARD_ID_HEADER = "webhook-id";
const STANDARD_TIMESTAMP_HEADER = "webhook-timestamp";
const STANDARD_SIGNATURE_HEADER = "webhook-signature";

/** One signature for the webhook-signature header: "v1,<base64>". */
export async function signStandard(secret: string, id: string, timestamp: number, body: string): Promise<string> {
  // The id and timestamp are herald's (a UUID, an integer), never the tenant's, so neither can hold
  // the "." that would let one signed content pass for another.
  const mac = await crypto.subtle.sign("HMAC", await hmacKey(secret), utf8(`${id}.${timestamp}.${body}`));
  return `v1,${toBase64(new Uint8Array(mac))}`;
}

/** The three headers of one attempt, signed under each of `secrets` (the current one first). */
export async function standardHeaders(
  secrets: readonly string[],
  id: string,
  timestamp: number,
  body: string,
): Promise<Record<string, string>> {
  const signatures = await Promise.all(secrets.map((secret) => signStandard(secret, id, timestamp, body)));
  return {
    [STANDARD_ID_HEADER]: id,
    [STANDARD_TIMESTAMP_HEADER]: String(timestamp),
    [STANDARD_SIGNATURE_HEADER]: signatures.join(" "),
  };
}
