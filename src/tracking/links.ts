import { config, type Settings } from "../config";
import { parseMailbox, domainOf } from "../providers/address";
import { rewriteHtml } from "./rewrite";
import { signToken, type TrackingClaims } from "./token";

/** Who a rendered email is for, and what it should carry. */
export interface TrackingRecipient {
  tenantId: string;
  messageId: string;
  campaignId?: string;
  contactId?: string;
  email: string;
  /** The From address, for the default mailto: of List-Unsubscribe. */
  from: string;
  trackOpens: boolean;
  trackClicks: boolean;
  /** Campaign mail carries List-Unsubscribe (RFC 2369) with one-click POST (RFC 8058). */
  listUnsubscribe: boolean;
}

export interface Decorated {
  html: string | null | undefined;
  headers: Record<string, string>;
}

/** PUBLIC_URL without a trailing slash, or undefined when it is not set. */
export function publicBase(env: Settings): string | undefined {
  return config(env).publicUrl || undefined;
}

/**
 * Adds what an email needs for tracking and unsubscribing: the open pixel, click redirects and
 * the List-Unsubscribe headers, each carrying a token signed with TRACKING_SECRET. Without
 * PUBLIC_URL (or the secret) there is nowhere to point links at, so only the mailto: remains.
 */
export async function decorate(env: Settings, r: TrackingRecipient, html: string | null | undefined): Promise<Decorated> {
  const base = publicBase(env);
  const secret = config(env).trackingSecret;
  const headers: Record<string, string> = {};
  const claims: Omit<TrackingClaims, "k"> = { t: r.tenantId, m: r.messageId, e: r.email };
  if (r.campaignId) claims.c = r.campaignId;
  if (r.contactId) claims.ct = r.contactId;

  if (r.listUnsubscribe) {
    const targets: string[] = [];
    if (base && secret) targets.push(`<${base}/u/${await signToken(secret, { ...claims, k: "u" })}>`);
    const mailto = unsubscribeMailbox(env, r.from);
    if (mailto) targets.push(`<mailto:${mailto}?subject=unsubscribe>`);
    if (targets.length > 0) headers["List-Unsubscribe"] = targets.join(", ");
    if (base && secret) headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click";
  }

  if (!html || !base || !secret || (!r.trackOpens && !r.trackClicks)) return { html, headers };
  const { e: _email, ...trackClaims } = claims;
  const clickUrl = async (target: string) => {
    try {
      return `${base}/t/c/${await signToken(secret, { ...trackClaims, k: "c", u: target })}`;
    } catch {
      // A target too long to sign stays as it is: one untracked link beats a failed email.
      return target;
    }
  };
  const rewritten = await rewriteHtml(html, {
    clickUrl: r.trackClicks ? clickUrl : undefined,
    openPixelUrl: r.trackOpens ? `${base}/t/o/${await signToken(secret, { ...trackClaims, k: "o" })}` : undefined,
    skip: (url) => url.startsWith(`${base}/u/`),
  });
  return { html: rewritten, headers };
}

function unsubscribeMailbox(env: Settings, from: string): string | undefined {
  const configured = config(env).unsubscribeMailto;
  if (configured) return configured;
  const domain = domainOf(parseMailbox(from)?.email ?? "");
  return domain ? `unsubscribe@${domain}` : undefined;
}
