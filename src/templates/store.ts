import { and, desc, eq, sql } from "drizzle-orm";
import { templates } from "../db/schema";
import { HeraldError, type FieldError } from "../errors";
import { uuidv7 } from "../lib/ids";
import { idPage, type Page, type PageRequest, tenantRowsBefore } from "../lib/keyset";
import { uuidOr404 } from "../lib/schemas";
import { deleteTenantRow } from "../lib/tenant-rows";
import type { Db } from "../services/db";
import { compileTemplate, TemplateSyntaxError, type TemplateSource } from "./engine";

export type TemplateRow = typeof templates.$inferSelect;
/** A template as listed: everything but its bodies. */
export type TemplateSummaryRow = Pick<TemplateRow, "id" | "name" | "subject" | "version" | "variables" | "createdAt" | "updatedAt">;

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

/** A page of the tenant's templates, newest first, without their bodies. */
export function templateSummaryPage<Dto>(
  db: Db,
  tenantId: string,
  query: PageRequest,
  toDto: (row: TemplateSummaryRow) => Dto,
): Promise<Page<Dto>> {
  // Bodies can be 512 KB each; a page of them would be tens of megabytes.
  const fetch = (after: string | undefined, take: number) =>
    db
      .select({
        id: templates.id,
        name: templates.name,
        subject: templates.subject,
        version: templates.version,
        variables: templates.variables,
        createdAt: templates.createdAt,
        updatedAt: templates.updatedAt,
      })
      .from(templates)
      .where(tenantRowsBefore(templates, tenantId, after))
      .orderBy(desc(templates.id))
      .limit(take);
  return idPage(query, fetch, toDto);
}

/** A new template; a syntax error in any part is a 422 naming it. */
export async function createTemplate(db: Db, tenantId: string, name: string, source: TemplateSource): Promise<TemplateRow> {
  const variables = variablesOf(source);
  const [row] = await db
    .insert(templates)
    .values({ id: uuidv7(), tenantId, name, ...source, variables })
    .returning();
  return row!;
}

export interface TemplateChanges {
  name?: string;
  subject?: string;
  /** undefined: unchanged; null: removed. */
  html?: string | null;
  text?: string | null;
}

/** Changes a template and bumps its version; the merged template must still have html or text. */
export function updateTemplate(db: Db, tenantId: string, id: string, changes: TemplateChanges): Promise<TemplateRow> {
  // The row is locked while the merged template is checked, so a concurrent change to another
  // part cannot leave `variables` describing a template that was never saved.
  return db.transaction(async (tx) => {
    const existing = await findTemplate(tx, tenantId, id, true);
    const source = {
      subject: changes.subject ?? existing.subject,
      html: changes.html === undefined ? existing.html : changes.html,
      text: changes.text === undefined ? existing.text : changes.text,
    };
    if (source.html === null && source.text === null) {
      const message = "a template needs html, text or both";
      throw new HeraldError("validation_failed", "invalid body.html, body.text", {
        errors: [
          { field: "body.html", message },
          { field: "body.text", message },
        ],
      });
    }
    const variables = variablesOf(source);
    const [updated] = await tx
      .update(templates)
      .set({
        ...(changes.name !== undefined && { name: changes.name }),
        ...source,
        variables,
        version: sql`${templates.version} + 1`,
        updatedAt: sql`now()`,
      })
      .where(and(eq(templates.tenantId, tenantId), eq(templates.id, existing.id)))
      .returning();
    return updated!;
  });
}

/** Deletes the tenant's template and answers its id; campaigns already launched keep their snapshot. */
export function deleteTemplate(db: Db, tenantId: string, id: string): Promise<string> {
  return deleteTenantRow(db, templates, tenantId, id, noSuchTemplate);
}
