import { and, eq } from "drizzle-orm";
import { campaigns } from "../db/schema";
import type { Db } from "../services/db";
import { compileTemplate, type CompiledTemplate } from "../templates/engine";

/** What a send consumer needs about a campaign besides its state, which it reads fresh each batch. */
export interface SendingContext {
  fromAddress: string;
  replyTo: string | null;
  providerIds: string[];
  data: Record<string, unknown>;
  template: CompiledTemplate;
  templateVersion: number;
  trackOpens: boolean;
  trackClicks: boolean;
}

const TTL_MS = 60_000;
const cache = new Map<string, { ctx: SendingContext; at: number }>();

/**
 * The launch snapshot is immutable for a given template version, so each isolate compiles a
 * campaign's template once and reuses it for every batch, instead of re-reading tens of KB of HTML.
 */
export async function sendingContext(
  db: Db,
  tenantId: string,
  campaignId: string,
  version?: number | null,
): Promise<SendingContext | undefined> {
  const key = `${tenantId}:${campaignId}`;
  const hit = cache.get(key);
  if (hit && (version == null || hit.ctx.templateVersion === version) && Date.now() - hit.at < TTL_MS) return hit.ctx;
  const [row] = await db
    .select({
      fromAddress: campaigns.fromAddress,
      replyTo: campaigns.replyTo,
      providerIds: campaigns.providerIds,
      data: campaigns.data,
      snapshot: campaigns.templateSnapshot,
      trackOpens: campaigns.trackOpens,
      trackClicks: campaigns.trackClicks,
    })
    .from(campaigns)
    .where(and(eq(campaigns.tenantId, tenantId), eq(campaigns.id, campaignId)))
    .limit(1);
  if (!row?.snapshot) return undefined;
  const ctx: SendingContext = {
    fromAddress: row.fromAddress,
    replyTo: row.replyTo,
    providerIds: row.providerIds,
    data: row.data,
    template: compileTemplate(row.snapshot),
    templateVersion: row.snapshot.version,
    trackOpens: row.trackOpens,
    trackClicks: row.trackClicks,
  };
  if (cache.size > 500) cache.clear();
  cache.set(key, { ctx, at: Date.now() });
  return ctx;
}
