import { z } from "zod";

/** A recipient as fan-out hands it to the send consumer: just what rendering needs. */
export const QueuedRecipient = z.object({
  c: z.string().uuid(), // contact id
  e: z.string(), // email
  n: z.string().nullable(), // name
  a: z.record(z.string(), z.unknown()), // attributes
});
export type QueuedRecipient = z.infer<typeof QueuedRecipient>;

export const FanoutMessage = z.object({
  type: z.literal("campaign_fanout"),
  tenant_id: z.string().uuid(),
  campaign_id: z.string().uuid(),
  /**
   * launch: plan the audience into ranges, queued at once so they expand in parallel;
   * range: one planned range; resume: the part not yet handled, page after page;
   * retry: the recipients retry-failed marked, page after page.
   */
  mode: z.enum(["launch", "range", "resume", "retry"]),
  /** Keyset cursor: the last contact id before this page, null at the start. */
  cursor: z.string().uuid().nullable(),
  /** range: the last contact id of the range, inclusive. */
  until: z.string().uuid().optional(),
  /** range: how many audience members the plan counted in it. */
  expected: z.number().int().min(0).optional(),
  /** range: the planned page (campaign_pages.seq) this message expands. */
  seq: z.number().int().min(0).optional(),
  /** How many times the dead-letter handler has put this step back after it exhausted its retries. */
  replans: z.number().int().min(0).optional(),
  /** Recipients handled by earlier pages (resume and retry), for logs. */
  seen: z.number().int().min(0),
});
export type FanoutMessage = z.infer<typeof FanoutMessage>;

export const SendMessage = z.object({
  type: z.literal("campaign_send"),
  tenant_id: z.string().uuid(),
  campaign_id: z.string().uuid(),
  /** The campaign's message partition month, YYYY-MM-01. */
  month: z.string().regex(/^\d{4}-\d{2}-01$/),
  recipients: z.array(QueuedRecipient).min(1).max(100),
});
export type SendMessage = z.infer<typeof SendMessage>;

/** Queue limit: a message ≤ 128 KB (kept under, for the envelope). Batch limits are in src/lib/queues.ts. */
export const MAX_MESSAGE_BYTES = 120 * 1024;
export const RECIPIENTS_PER_MESSAGE = 100;

/** The fan-out step that expands one planned page of a campaign's audience. */
export function rangeMessage(
  tenantId: string,
  campaignId: string,
  page: { after: string | null; until: string; expected: number; seq: number },
  replans?: number,
): FanoutMessage {
  return {
    type: "campaign_fanout",
    tenant_id: tenantId,
    campaign_id: campaignId,
    mode: "range",
    cursor: page.after,
    until: page.until,
    expected: page.expected,
    seq: page.seq,
    seen: 0,
    ...(replans === undefined ? {} : { replans }),
  };
}
