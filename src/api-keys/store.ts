import { and, eq, isNull } from "drizzle-orm";
import { generateApiKey } from "../auth/api-keys";
import type { Scope } from "../auth/scopes";
import { apiKeys, type ApiKey } from "../db/schema";
import { HeraldError } from "../errors";
import { uuidv7 } from "../lib/ids";
import { newestFirst, type PageRequest } from "../lib/keyset";
import { findTenantRow } from "../lib/tenant-rows";
import type { Db } from "../services/db";
import { toApiKeyDto } from "./schema";

export function findApiKey(db: Db, tenantId: string, id: string) {
  return findTenantRow(db, apiKeys, tenantId, id, () => new HeraldError("not_found", "no such API key"));
}

/** A page of the tenant's keys, newest first, revoked ones included. */
export function listApiKeys(db: Db, tenantId: string, page: PageRequest) {
  return newestFirst(db, apiKeys, tenantId, page, toApiKeyDto);
}

/** Revokes a key not yet revoked; answers the key as it now stands. */
export async function revokeApiKey(db: Db, tenantId: string, existing: ApiKey): Promise<ApiKey> {
  const [row] = await db
    .update(apiKeys)
    .set({ revokedAt: new Date() })
    .where(and(eq(apiKeys.tenantId, tenantId), eq(apiKeys.id, existing.id), isNull(apiKeys.revokedAt)))
    .returning();
  return row ?? existing;
}

export interface NewKeyInput {
  tenantId: string;
  name: string;
  scopes: Scope[];
  expiresAt?: Date;
  createdBy?: string;
}

/** Inserts a key and returns it with the plaintext key, which exists only in this response. */
export async function insertApiKey(db: Pick<Db, "insert">, input: NewKeyInput) {
  const generated = await generateApiKey();
  const [row] = await db
    .insert(apiKeys)
    .values({
      id: uuidv7(),
      tenantId: input.tenantId,
      name: input.name,
      prefix: generated.prefix,
      keyHash: generated.hash,
      scopes: input.scopes,
      expiresAt: input.expiresAt,
      createdBy: input.createdBy,
    })
    .returning();
  return { ...toApiKeyDto(row!), key: generated.key };
}
