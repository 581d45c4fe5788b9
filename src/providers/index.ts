import { connect as socketsConnect } from "cloudflare:sockets";
import type { z } from "zod";
import type { ProviderKind } from "../db/schema";
import type { FetchFn } from "./http";
import { createMailgunProvider, MailgunConfig, MailgunCredentials } from "./mailgun";
import { createPostmarkProvider, PostmarkConfig, PostmarkCredentials } from "./postmark";
import { createResendProvider, ResendConfig, ResendCredentials } from "./resend";
import { createSendgridProvider, SendgridConfig, SendgridCredentials } from "./sendgrid";
import { createSesProvider, SesConfig, SesCredentials } from "./ses";
import { createSinkProvider, SinkConfig, SinkCredentials } from "./sink";
import { createSmtpProvider, SmtpConfig, SmtpCredentials } from "./smtp";
import type { ConnectFn } from "./smtp-session";
import { ProviderError, type EmailProvider } from "./types";

export { PartialBatchError } from "./errors";
export { MailgunConfig, MailgunCredentials, PostmarkConfig, PostmarkCredentials, ResendConfig, ResendCredentials };
export { SendgridConfig, SendgridCredentials, SesConfig, SesCredentials, SinkConfig, SinkCredentials, SmtpConfig, SmtpCredentials };

/** Each kind's config (stored as is, returned by the API) and credentials (encrypted, never returned). */
export const PROVIDER_SCHEMAS = {
  sink: { config: SinkConfig, credentials: SinkCredentials },
  resend: { config: ResendConfig, credentials: ResendCredentials },
  postmark: { config: PostmarkConfig, credentials: PostmarkCredentials },
  sendgrid: { config: SendgridConfig, credentials: SendgridCredentials },
  mailgun: { config: MailgunConfig, credentials: MailgunCredentials },
  ses: { config: SesConfig, credentials: SesCredentials },
  smtp: { config: SmtpConfig, credentials: SmtpCredentials },
} as const satisfies Record<ProviderKind, { config: z.ZodType; credentials: z.ZodType }>;

export interface ProviderDeps {
  fetch?: FetchFn;
  connect?: ConnectFn;
}

function parse<T extends z.ZodType>(kind: ProviderKind, what: string, schema: T, value: unknown): z.infer<T> {
  const result = schema.safeParse(value ?? undefined);
  if (result.success) return result.data;
  // Field names only: a credentials value must never reach an error message.
  const fields = [...new Set(result.error.issues.map((i) => i.path.join(".") || what))].join(", ");
  throw new ProviderError("misconfigured", `invalid ${kind} ${what}: ${fields}`);
}

/** Parses a kind's stored settings and hands them, with its transport, to the kind's factory. */
function build<C extends z.ZodType, K extends z.ZodType, T>(
  kind: ProviderKind,
  schemas: { config: C; credentials: K },
  create: (config: z.infer<C>, credentials: z.infer<K>, transport: T) => EmailProvider,
  transport: T,
  config: unknown,
  credentials: unknown,
): EmailProvider {
  return create(parse(kind, "config", schemas.config, config), parse(kind, "credentials", schemas.credentials, credentials), transport);
}

/** Builds an adapter from stored settings; invalid settings are a misconfigured ProviderError. */
export function createProvider(kind: ProviderKind, config: unknown, credentials: unknown, deps: ProviderDeps = {}): EmailProvider {
  const fetch: FetchFn = deps.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const s = PROVIDER_SCHEMAS;
  switch (kind) {
    case "sink":
      return build(kind, s.sink, createSinkProvider, fetch, config, credentials);
    case "resend":
      return build(kind, s.resend, createResendProvider, fetch, config, credentials);
    case "postmark":
      return build(kind, s.postmark, createPostmarkProvider, fetch, config, credentials);
    case "sendgrid":
      return build(kind, s.sendgrid, createSendgridProvider, fetch, config, credentials);
    case "mailgun":
      return build(kind, s.mailgun, createMailgunProvider, fetch, config, credentials);
    case "ses":
      return build(kind, s.ses, createSesProvider, fetch, config, credentials);
    case "smtp":
      return build(kind, s.smtp, createSmtpProvider, deps.connect ?? socketsConnect, config, credentials);
    default:
      throw new ProviderError("misconfigured", `unknown provider kind ${String(kind)}`);
  }
}
