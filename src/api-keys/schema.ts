import { z } from "@hono/zod-openapi";
import { SCOPES } from "../auth/scopes";
import type { ApiKey } from "../db/schema";
import { Timestamp } from "../lib/schemas";

export const ApiKeySchema = z
  .object({
    id: z.string().uuid(),
    name: z.string(),
    prefix: z.string().openapi({ description: "The key's first characters, to tell keys apart", example: "hk_4f9XbQ2" }),
    scopes: z.array(z.enum(SCOPES)),
    created_at: Timestamp,
    expires_at: Timestamp.nullable(),
    last_used_at: Timestamp.nullable(),
    revoked_at: Timestamp.nullable(),
  })
  .openapi("ApiKey");

export const CreatedApiKeySchema = ApiKeySchema.extend({
  key: z.string().openapi({ description: "The key itself. It is shown this once and never again." }),
}).openapi("CreatedApiKey");

export const CreateApiKeyBody = z
  .object({
    name: z.string().trim().min(1).max(100),
    scopes: z.array(z.enum(SCOPES)).min(1).max(SCOPES.length).default(["*"]),
    expires_at: z.iso
      .datetime({ offset: true })
      .optional()
      .refine((v) => v === undefined || Date.parse(v) > Date.now(), "must be in the future"),
  })
  .strict()
  .openapi("CreateApiKey");

export function toApiKeyDto(row: ApiKey) {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    scopes: row.scopes as z.infer<typeof ApiKeySchema>["scopes"],
    created_at: row.createdAt.toISOString(),
    expires_at: row.expiresAt?.toISOString() ?? null,
    last_used_at: row.lastUsedAt?.toISOString() ?? null,
    revoked_at: row.revokedAt?.toISOString() ?? null,
  };
}
