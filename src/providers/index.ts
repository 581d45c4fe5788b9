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

/** Builds an adapter from stored settings; invalid settings are a misconfigured ProviderError. */
export function createProvider(kind: ProviderKind, config: unknown, credentials: unknown, deps: ProviderDeps = {}): EmailProvider {
  const fetch: FetchFn = deps.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const s = PROVIDER_SCHEMAS;
  switch (kind) {
    case "sink":
      return createSinkProvider(
        parse(kind, "config", s.sink.config, config),
        parse(kind, "credentials", s.sink.credentials, credentials),
        fetch,
      );
    case "resend":
      return createResendProvider(
        parse(kind, "config", s.resend.config, config),
        parse(kind, "credentials", s.resend.credentials, credentials),
        fetch,
      );
    case "postmark":
      return createPostmarkProvider(
        parse(kind, "config", s.postmark.config, config),
        parse(kind, "credentials", s.postmark.credentials, credentials),
        fetch,
      );
    case "sendgrid":
      return createSendgridProvider(
        parse(kind, "config", s.sendgrid.config, config),
        parse(kind, "credentials", s.sendgrid.credentials, credentials),
        fetch,
      );
    case "mailgun":
      return createMailgunProvider(
        parse(kind, "config", s.mailgun.config, config),
        parse(kind, "credentials", s.mailgun.credentials, credentials),
        fetch,
      );
    case "ses":
      return createSesProvider(
        parse(kind, "config", s.ses.config, config),
        parse(kind, "credentials", s.ses.credentials, credentials),
        fetch,
      );
    case "smtp":
      return createSmtpProvider(
        parse(kind, "config", s.smtp.config, config),
        parse(kind, "credentials", s.smtp.credentials, credentials),
        deps.connect ?? socketsConnect,
      );
    default:
      throw new ProviderError("misconfigured", `unknown provider kind ${String(kind)}`);
  }
}
