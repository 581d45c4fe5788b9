import type { ProviderKind } from "../db/schema";
import { hostProblem, normalizeHost, urlProblem, type DestinationPolicy } from "../lib/destination";
import { PROVIDER_SCHEMAS } from "./index";
import { MAILGUN_REGION_BASE } from "./mailgun";
import { POSTMARK_BASE_URL } from "./postmark";
import { RESEND_BASE_URL } from "./resend";
import { SENDGRID_BASE_URL } from "./sendgrid";
import { sesBaseUrl } from "./ses";
import { DEFAULT_PORT } from "./smtp";

/** Where a provider's credentials are sent, as its config decides. */
export interface ProviderDestination {
  /** The config field that decides it (for errors: body.config.<field>). */
  field: string;
  /**
   * Two configs with the same `where` send the credentials to the same place: the origin of the API
   * (scheme, host, port) or, for SMTP, the host, port and transport security.
   */
  where: string;
  /** Why herald refuses to send there under `policy`, or undefined. */
  problem(policy: DestinationPolicy): string | undefined;
}

function http(field: string, url: string): ProviderDestination {
  let where: string;
  try {
    where = new URL(url).origin;
  } catch {
    where = url;
  }
  return { field, where, problem: (policy) => urlProblem(url, policy) };
}

/**
 * The destination of a config, or undefined when the config does not validate (the adapter then
 * refuses to send anyway). Mailgun's domain is a path segment on the same API host, so it is not
 * part of the destination; its region and SES's are, since they pick the host.
 */
export function providerDestination(kind: ProviderKind, config: unknown): ProviderDestination | undefined {
  const schema = PROVIDER_SCHEMAS[kind]?.config;
  const parsed = schema?.safeParse(config ?? undefined);
  if (!parsed?.success) return undefined;
  const c = parsed.data as Record<string, unknown>;
  const baseUrl = typeof c.base_url === "string" ? c.base_url : undefined;
  switch (kind) {
    case "sink":
      return http("url", c.url as string);
    case "resend":
      return http("base_url", baseUrl ?? RESEND_BASE_URL);
    case "postmark":
      return http("base_url", baseUrl ?? POSTMARK_BASE_URL);
    case "sendgrid":
      return http("base_url", baseUrl ?? SENDGRID_BASE_URL);
    case "mailgun":
      return http(baseUrl ? "base_url" : "region", baseUrl ?? MAILGUN_REGION_BASE[c.region as keyof typeof MAILGUN_REGION_BASE]);
    case "ses":
      return http(baseUrl ? "base_url" : "region", sesBaseUrl({ region: c.region as string, base_url: baseUrl }));
    case "smtp": {
      const host = c.host as string;
      const security = c.security as keyof typeof DEFAULT_PORT;
      const port = (c.port as number | undefined) ?? DEFAULT_PORT[security];
      return {
        field: "host",
        where: `smtp+${security}://${normalizeHost(host) ?? host}:${port}`,
        problem: (policy) => hostProblem(host, policy),
      };
    }
    default:
      return undefined;
  }
}
