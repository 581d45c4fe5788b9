import type { z } from "zod";
import type { Config } from "../../../config";
import type { ProviderKind } from "../../../db/schema";
import { HeraldError, type FieldError } from "../../../errors";
import { encryptJson } from "../../../lib/crypto";
import type { DestinationPolicy } from "../../../lib/destination";
import { PROVIDER_SCHEMAS } from "../../../providers";
import { providerDestination } from "../../../providers/destination";
import { credentialsAad } from "../../../providers/registry";

function issuesAt(prefix: string, error: z.ZodError): FieldError[] {
  return error.issues.flatMap((issue) => {
    const base = [prefix, ...issue.path.map(String)].join(".");
    // Name each unknown key, so a typo points at itself rather than at the whole object.
    if (issue.code === "unrecognized_keys") return issue.keys.map((key) => ({ field: `${base}.${key}`, message: "unknown field" }));
    return [{ field: base, message: issue.message }];
  });
}

export interface CheckedSettings {
  config?: Record<string, unknown>;
  /** undefined: not given; null: none (or removed). */
  credentials?: Record<string, unknown> | null;
}

/** The stored provider a PATCH changes. */
export interface PreviousSettings {
  config: unknown;
  hasCredentials: boolean;
}

/**
 * Validates config and credentials against the kind's schemas, as one 422 naming every bad field
 * (body.config.url, body.credentials.api_key), together with `extra` errors found by the caller.
 * Messages name fields only, never submitted values.
 *
 * A new config must send to a destination herald accepts (src/lib/destination.ts). On a PATCH, a
 * config that moves the stored credentials elsewhere (another origin, SMTP host, port or security)
 * must carry the credentials again: otherwise anyone allowed to write providers could point the
 * stored secrets at a host of their own and collect them with the test endpoint.
 */
export function checkSettings(
  kind: ProviderKind,
  input: { config?: unknown; credentials?: unknown },
  policy: DestinationPolicy,
  previous?: PreviousSettings,
  extra: FieldError[] = [],
): CheckedSettings {
  const schemas = PROVIDER_SCHEMAS[kind];
  const errors: FieldError[] = [];
  const out: CheckedSettings = {};
  if (input.config !== undefined) {
    const parsed = schemas.config.safeParse(input.config);
    if (parsed.success) {
      out.config = parsed.data as Record<string, unknown>;
      errors.push(...destinationErrors(kind, out.config, input.credentials !== undefined, policy, previous));
    } else errors.push(...issuesAt("body.config", parsed.error));
  }
  if (input.credentials !== undefined) {
    const parsed = schemas.credentials.safeParse(input.credentials ?? undefined);
    if (parsed.success) out.credentials = (parsed.data ?? null) as Record<string, unknown> | null;
    else errors.push(...issuesAt("body.credentials", parsed.error).map(redactReceived));
  }
  errors.push(...extra);
  if (errors.length > 0) {
    throw new HeraldError("validation_failed", `invalid ${errors.map((e) => e.field).join(", ")}`, { errors });
  }
  return out;
}

function destinationErrors(
  kind: ProviderKind,
  config: Record<string, unknown>,
  credentialsGiven: boolean,
  policy: DestinationPolicy,
  previous: PreviousSettings | undefined,
): FieldError[] {
  const next = providerDestination(kind, config);
  if (!next) return [];
  const errors: FieldError[] = [];
  const refused = next.problem(policy);
  if (refused) errors.push({ field: `body.config.${next.field}`, message: refused });
  if (previous?.hasCredentials && !credentialsGiven && providerDestination(kind, previous.config)?.where !== next.where) {
    errors.push({
      field: "body.credentials",
      message: `required: this config sends the stored credentials somewhere else (config.${next.field}); give them again, or null to remove them`,
    });
  }
  return errors;
}

/** A day's worth of sending at the provider's rate. */
const SECONDS_PER_DAY = 86_400;

/**
 * Limits that parse but contradict each other: a positive daily quota the rate can never reach in a
 * day. (A quota of 0 is not a contradiction: it means unlimited.) `given` names the fields in the
 * request; on a PATCH the other value is the stored one, and the error names what the request changed.
 */
export function limitErrors(rate: number, quota: number, given: { rate: boolean; quota: boolean }): FieldError[] {
  if (quota === 0 || quota <= rate * SECONDS_PER_DAY) return [];
  const field = given.quota || !given.rate ? "body.daily_quota" : "body.rate_per_second";
  return [
    {
      field,
      message: `daily_quota ${quota} can never be reached at rate_per_second ${rate} (at most ${rate * SECONDS_PER_DAY} a day); lower the quota, raise the rate, or use 0 for unlimited`,
    },
  ];
}

/** zod can quote the received value in a message; for secrets, keep only the part before it. */
function redactReceived(e: FieldError): FieldError {
  return { field: e.field, message: e.message.replace(/,?\s*received\b.*$/i, "") };
}

/** The credentials encrypted under ENCRYPTION_KEY and bound to the provider's id; null for none. */
export async function sealCredentials(
  providerId: string,
  credentials: Record<string, unknown> | null,
  config: Pick<Config, "encryptionKey">,
): Promise<string | null> {
  if (credentials === null) return null;
  return encryptJson(credentials, config.encryptionKey, credentialsAad(providerId));
}
