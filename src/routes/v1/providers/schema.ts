import { z } from "@hono/zod-openapi";
import { PROVIDER_KINDS, type providers } from "../../../db/schema";
import { Timestamp } from "../../../lib/schemas";

type ProviderRow = typeof providers.$inferSelect;

const Settings = z.record(z.string(), z.unknown());

export const ProviderSchema = z
  .object({
    id: z.string().uuid(),
    name: z.string(),
    kind: z.enum(PROVIDER_KINDS),
    config: Settings.openapi({ description: "The kind's non-secret settings", example: { region: "eu-west-1" } }),
    has_credentials: z.boolean().openapi({ description: "Whether credentials are stored. They are never returned." }),
    rate_per_second: z.number().int(),
    daily_quota: z.number().int().openapi({ description: "0 means unlimited; otherwise at most rate_per_second × 86,400" }),
    priority: z.number().int(),
    enabled: z.boolean(),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi("Provider");

const Name = z.string().trim().min(1).max(100);
const RatePerSecond = z.number().int().min(1).max(100_000);
const DailyQuota = z.number().int().min(0).max(1_000_000_000);
const Priority = z.number().int().min(0).max(10_000);
const Credentials = Settings.openapi({
  description: "The kind's secrets (api_key, server_token, access keys, SMTP login…). Encrypted at rest; write-only.",
  example: { api_key: "re_…" },
});

export const CreateProviderBody = z
  .object({
    name: Name,
    kind: z.enum(PROVIDER_KINDS),
    config: Settings.default({}).openapi({
      description:
        "sink: {url}; resend: {base_url?}; postmark: {message_stream?}; sendgrid: {}; mailgun: {domain, region?}; ses: {region, configuration_set?}; smtp: {host, port?, security?}. Every kind takes timeout_ms. URLs must be https to a public address and SMTP hosts public; loopback, private, link-local and internal names are refused.",
      example: { domain: "mg.example.com", region: "eu" },
    }),
    credentials: Credentials.nullable().optional(),
    rate_per_second: RatePerSecond.default(10),
    daily_quota: DailyQuota.default(0),
    priority: Priority.default(100),
    enabled: z.boolean().default(true),
  })
  .strict()
  .openapi("CreateProvider");

export const UpdateProviderBody = z
  .object({
    name: Name.optional(),
    config: Settings.optional().openapi({
      description:
        "Replaces the whole config when given. A config that changes where the stored credentials go (URL origin, region, SMTP host, port or security) needs credentials in the same request.",
    }),
    credentials: Credentials.nullable().optional().openapi({ description: "Replaced only when given; null removes them" }),
    rate_per_second: RatePerSecond.optional(),
    daily_quota: DailyQuota.optional(),
    priority: Priority.optional(),
    enabled: z.boolean().optional(),
  })
  .strict()
  .openapi("UpdateProvider");

export const TestProviderBody = z
  .object({
    to: z.email().max(320),
    from: z
      .string()
      .trim()
      .min(3)
      .max(320)
      .optional()
      .openapi({ description: "A sender the provider accepts", example: "Acme <hello@example.com>" }),
    subject: z.string().trim().min(1).max(200).optional(),
  })
  .strict()
  .openapi("TestProvider");

export const TestResultSchema = z
  .object({
    id: z.string().openapi({ description: "herald's id for the test email" }),
    status: z.enum(["accepted", "rejected", "failed"]).openapi({
      description: "accepted or rejected by the provider for this email, or failed as a whole (see failure_kind)",
    }),
    provider_message_id: z.string().nullable(),
    error: z.string().nullable(),
    failure_kind: z.enum(["rate_limited", "unavailable", "timeout", "auth", "misconfigured", "ambiguous"]).nullable(),
    retry_after_seconds: z.number().int().nullable(),
  })
  .openapi("ProviderTestResult");

export function toProviderDto(row: ProviderRow) {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    config: row.config,
    has_credentials: row.credentials !== null,
    rate_per_second: row.ratePerSecond,
    daily_quota: row.dailyQuota,
    priority: row.priority,
    enabled: row.enabled,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}
