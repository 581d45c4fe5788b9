import { contacts } from "../db/schema";
import { HeraldError } from "../errors";
import { findTenantRow } from "../lib/tenant-rows";
import type { Db } from "../services/db";

export function noSuchContact(): HeraldError {
  return new HeraldError("not_found", "no such contact");
}

export function findContact(db: Db, tenantId: string, id: string) {
  return findTenantRow(db, contacts, tenantId, id, noSuchContact);
}

export function emailTaken(email: string): HeraldError {
  return new HeraldError("conflict", `a contact with the email ${email} already exists`);
}
