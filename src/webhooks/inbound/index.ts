import { fail } from "./common";
import { verifyMailgun } from "./mailgun";
import { verifyPostmark } from "./postmark";
import { verifyResend } from "./resend";
import { verifySendgrid } from "./sendgrid";
import { verifySes } from "./ses";
import type { InboundProviderKind, InboundRequest, InboundResult, InboundSecrets, Verifier, VerifyOptions } from "./types";

export type {
  InboundEvent,
  InboundProviderKind,
  InboundRequest,
  InboundResult,
  InboundSecrets,
  ReplayGuard,
  VerifyOptions,
} from "./types";
export { fetchSnsText } from "./sns-fetch";

const VERIFIERS: Record<InboundProviderKind, Verifier> = {
  ses: verifySes,
  sendgrid: verifySendgrid,
  mailgun: verifyMailgun,
  postmark: verifyPostmark,
  resend: verifyResend,
};

/**
 * Verifies a provider webhook (signature, credentials, replay window) and normalizes its events.
 * Never throws: hostile input ends as { ok: false, status: 400 | 401 } with a reason safe to show.
 */
export async function verifyInbound(
  kind: InboundProviderKind,
  req: InboundRequest,
  secrets: InboundSecrets,
  opts: VerifyOptions,
): Promise<InboundResult> {
  // hasOwn: kind may come straight from a URL segment ("__proto__", "toString"…).
  if (!Object.hasOwn(VERIFIERS, kind)) return fail(400, "unknown provider");
  try {
    return await VERIFIERS[kind](req, secrets, opts);
  } catch {
    // Each verifier maps the failures it expects; anything left is input it could not make sense of.
    return fail(400, "malformed webhook");
  }
}
