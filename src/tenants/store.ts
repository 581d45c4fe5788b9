import { insertApiKey } from "../api-keys/store";
import { tenants, users } from "../db/schema";
import { uuidv7 } from "../lib/ids";
import type { Db } from "../services/db";

export interface NewTenant {
  name: string;
  plan: string;
  /** The tenant's first member, made its owner. */
  owner?: { email: string; name?: string };
}

/**
 * Creates a tenant with its first API key (every scope) and, when given, its owner, in one
 * transaction: a tenant never exists without its first key. The key's plaintext is in the answer only.
 */
export function createTenant(db: Db, input: NewTenant) {
  const tenantId = uuidv7();
  return db.transaction(async (tx) => {
    const [tenant] = await tx.insert(tenants).values({ id: tenantId, name: input.name, plan: input.plan }).returning();
    const owner = input.owner
      ? (
          await tx
            .insert(users)
            .values({ id: uuidv7(), tenantId, email: input.owner.email, name: input.owner.name, role: "owner" })
            .returning()
        )[0]!
      : null;
    const apiKey = await insertApiKey(tx, { tenantId, name: "default", scopes: ["*"], createdBy: "admin" });
    return { tenant: tenant!, owner, apiKey };
  });
}
