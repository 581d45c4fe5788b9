import { and, eq } from "drizzle-orm";
import { contacts } from "../db/schema";
import { HeraldError } from "../errors";
import { isUuid } from "../lib/ids";
import type { Db } from "../services/db";

/** Another tenant's contact, or an id that is not even a UUID, is simply not found. */
export async function findContact(db: Db, tenantId: string, id: string) {
  if (!isUuid(id)) throw new HeraldError("not_found", "no such contact");
  const [row] = await db
    .select()
    .from(contacts)
    .where(and(eq(contacts.tenantId, tenantId), eq(contacts.id, id.toLowerCase())))
    .limit(1);
  if (!row) throw new HeraldError("not_found", "no such contact");
  return row;
}

export function emailTaken(email: string): HeraldError {
  return new HeraldError("conflict", `a contact with the email ${email} already exists`);
}
