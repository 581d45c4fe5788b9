import { and, eq } from "drizzle-orm";
import { templates } from "../../../db/schema";
import { HeraldError, type FieldError } from "../../../errors";
import { uuidOr404 } from "../../../lib/schemas";
import type { Db } from "../../../services/db";
import { compileTemplate, TemplateSyntaxError, type TemplateSource } from "../../../templates/engine";

/** A template read through the cache; every write path deletes the entry. */
export const TEMPLATE_CACHE_SECONDS = 300;
export const templateCacheKey = (tenantId: string, id: string) => `template:${tenantId}:${id.toLowerCase()}`;

export function noSuchTemplate(): HeraldError {
  return new HeraldError("not_found", "no such template");
}

/** Another tenant's template, or an id that is not even a UUID, is simply not found. */
export async function findTemplate(db: Pick<Db, "select">, tenantId: string, id: string, forUpdate = false) {
  const query = db
    .select()
    .from(templates)
    .where(and(eq(templates.tenantId, tenantId), eq(templates.id, uuidOr404(id, noSuchTemplate))))
    .limit(1);
  const [row] = forUpdate ? await query.for("update") : await query;
  if (!row) throw noSuchTemplate();
  return row;
}

/**
 * Compiles each part on its own, so one response names every part that has a syntax error; the
 * variables it returns are what a campaign checks its merge data against.
 */
export function variablesOf(source: TemplateSource): string[] {
  const errors: FieldError[] = [];
  const variables = new Set<string>();
  const parts = [
    { part: "subject", src: { subject: source.subject, html: null, text: null } },
    { part: "html", src: { subject: "", html: source.html, text: null } },
    { part: "text", src: { subject: "", html: null, text: source.text } },
  ];
  for (const { part, src } of parts) {
    try {
      for (const name of compileTemplate(src).variables) variables.add(name);
    } catch (err) {
      if (!(err instanceof TemplateSyntaxError)) throw err;
      errors.push({ field: `body.${part}`, message: err.message });
    }
  }
  if (errors.length > 0) {
    throw new HeraldError("validation_failed", `invalid template syntax in ${errors.map((e) => e.field).join(", ")}`, { errors });
  }
  return [...variables];
}
