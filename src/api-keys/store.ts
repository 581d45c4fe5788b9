import { generateApiKey } from "../auth/api-keys";
import type { Scope } from "../auth/scopes";
import { apiKeys } from "../db/schema";
import { uuidv7 } from "../lib/ids";
import type { Db } from "../services/db";
import { toApiKeyDto } from "./schema";

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
