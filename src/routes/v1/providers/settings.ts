import type { z } from "zod";
import type { ProviderKind } from "../../../db/schema";
import { HeraldError, type FieldError } from "../../../errors";
import { encryptJson } from "../../../lib/crypto";
import { PROVIDER_SCHEMAS } from "../../../providers";
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

/**
 * Validates config and credentials against the kind's schemas, as one 422 naming every bad field
 * (body.config.url, body.credentials.api_key). Messages name fields only, never submitted values.
 */
export function checkSettings(kind: ProviderKind, input: { config?: unknown; credentials?: unknown }): CheckedSettings {
  const schemas = PROVIDER_SCHEMAS[kind];
  const errors: FieldError[] = [];
  const out: CheckedSettings = {};
  if (input.config !== undefined) {
    const parsed = schemas.config.safeParse(input.config);
    if (parsed.success) out.config = parsed.data as Record<string, unknown>;
    else errors.push(...issuesAt("body.config", parsed.error));
  }
  if (input.credentials !== undefined) {
    const parsed = schemas.credentials.safeParse(input.credentials ?? undefined);
    if (parsed.success) out.credentials = (parsed.data ?? null) as Record<string, unknown> | null;
    else errors.push(...issuesAt("body.credentials", parsed.error).map(redactReceived));
  }
  if (errors.length > 0) {
    throw new HeraldError("validation_failed", `invalid ${errors.map((e) => e.field).join(", ")}`, { errors });
  }
  return out;
}

/** zod can quote the received value in a message; for secrets, keep only the part before it. */
function redactReceived(e: FieldError): FieldError {
  return { field: e.field, message: e.message.replace(/,?\s*received\b.*$/i, "") };
}

export async function sealCredentials(
  providerId: string,
  credentials: Record<string, unknown> | null,
  env: Pick<Env, "ENCRYPTION_KEY">,
): Promise<string | null> {
  if (credentials === null) return null;
  return encryptJson(credentials, env.ENCRYPTION_KEY, credentialsAad(providerId));
}
