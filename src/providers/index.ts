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

/**
 * One provider kind: its config (stored as is, returned by the API), its credentials (encrypted,
 * never returned), and its factory, which gets both parsed and the kind's transport.
 */
function providerKind<C extends z.ZodType, K extends z.ZodType, T>(
  config: C,
  credentials: K,
  create: (config: z.infer<C>, credentials: z.infer<K>, transport: T) => EmailProvider,
) {
  return {
    config,
    credentials,
    build(kind: ProviderKind, transport: T, rawConfig: unknown, rawCredentials: unknown): EmailProvider {
      return create(parse(kind, "config", config, rawConfig), parse(kind, "credentials", credentials, rawCredentials), transport);
    },
  };
}

function parse<T extends z.ZodType>(kind: ProviderKind, what: string, schema: T, value: unknown): z.infer<T> {
  const result = schema.safeParse(value ?? undefined);
  if (result.success) return result.data;
  // Field names only: a credentials value must never reach an error message.
  const fields = [...new Set(result.error.issues.map((i) => i.path.join(".") || what))].join(", ");
  throw new ProviderError("misconfigured", `invalid ${kind} ${what}: ${fields}`);
}

export const PROVIDER_SCHEMAS = {
  sink: providerKind(SinkConfig, SinkCredentials, createSinkProvider),
  resend: providerKind(ResendConfig, ResendCredentials, createResendProvider),
  postmark: providerKind(PostmarkConfig, PostmarkCredentials, createPostmarkProvider),
  sendgrid: providerKind(SendgridConfig, SendgridCredentials, createSendgridProvider),
  mailgun: providerKind(MailgunConfig, MailgunCredentials, createMailgunProvider),
  ses: providerKind(SesConfig, SesCredentials, createSesProvider),
  smtp: providerKind(SmtpConfig, SmtpCredentials, createSmtpProvider),
} as const satisfies Record<ProviderKind, { config: z.ZodType; credentials: z.ZodType }>;

export interface ProviderDeps {
  fetch?: FetchFn;
  connect?: ConnectFn;
}

/** Builds an adapter from stored settings; invalid settings are a misconfigured ProviderError. */
export function createProvider(kind: ProviderKind, config: unknown, credentials: unknown, deps: ProviderDeps = {}): EmailProvider {
  const entry = Object.hasOwn(PROVIDER_SCHEMAS, kind) ? PROVIDER_SCHEMAS[kind] : undefined;
  if (!entry) throw new ProviderError("misconfigured", `unknown provider kind ${String(kind)}`);
  if (kind === "smtp") return PROVIDER_SCHEMAS.smtp.build(kind, deps.connect ?? socketsConnect, config, credentials);
  const fetch: FetchFn = deps.fetch ?? ((input, init) => globalThis.fetch(input, init));
  // Every kind but smtp speaks HTTP through `fetch`; the union of their build()s takes it.
  return (entry as (typeof PROVIDER_SCHEMAS)["sink"]).build(kind, fetch, config, credentials);
}
