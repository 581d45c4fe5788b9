import { EventMessage, type EventInput, type StoredEvent } from "../src/events/message";
import { capTrackingEvents, type PendingEvent } from "../src/events/tracking-cap";
import { sha256Hex } from "../src/lib/encoding";
import { insertEvents, messageLogEntries, setLastEvents } from "../src/events/store";
import { monthOf, uuidFromHash, uuidv7 } from "../src/lib/ids";
import { clipCodePoints, wellFormed } from "../src/lib/text";
import type { Db } from "../src/services/db";
import type { Logger } from "../src/services/logger";
import { suppress, type SuppressionEntry } from "../src/suppressions/store";
import { dispatchWebhooks } from "../src/webhooks/outbound/dispatch";
import { backoffSeconds, parseAndGroup, withBatchServices } from "./handler";

/**
 * Longest string kept in an event's data, in code points. Provider details (SMTP diagnostics, user
 * agents, reasons) fit with room to spare; anything longer is noise that would only bloat the events
 * table and every webhook payload built from it. Keys get a smaller bound: they are field names.
 */
const MAX_DATA_TEXT = 4096;
const MAX_DATA_KEY = 256;

/**
 * Text PostgreSQL and its JSON parser accept: NUL is dropped (text and jsonb cannot hold it) and lone
 * UTF-16 surrogates become U+FFFD (text encoders and jsonb reject them). `max` clips by code points.
 */
function cleanText(text: string, max?: number): string {
  const noNul = text.includes("\0") ? text.replace(/\0/g, "") : text;
  return max === undefined ? wellFormed(noNul) : clipCodePoints(noNul, max);
}

/** Cleans every string of a data value, keys included, recursively. */
function cleanData(value: unknown): unknown {
  if (typeof value === "string") return cleanText(value, MAX_DATA_TEXT);
  if (Array.isArray(value)) return value.map(cleanData);
  // Only plain objects are walked: a Date (queues carry structured clones) keeps its toJSON.
  if (value && typeof value === "object" && [Object.prototype, null].includes(Object.getPrototypeOf(value))) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [cleanText(k, MAX_DATA_KEY), cleanData(v)]));
  }
  return value;
}

/**
 * An event safe to store. The schema already bounds the top-level strings (email, url, ids), so they
 * are only cleaned; data is unbounded there, so its strings are clipped too. provider_event_id keeps
 * its identity: its hash (the event id) reads it as UTF-8, which maps a lone surrogate to U+FFFD too.
 */
function cleanEvent(input: EventInput): EventInput {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input))
    out[key] = key === "data" ? cleanData(value) : typeof value === "string" ? cleanText(value) : value;
  return out as EventInput;
}

/**
 * After this many events of a group failed on their own with none stored, the database (not the
 * events) is taken to be failing: the rest are retried at once instead of each paying a failing
 * round trip.
 */
const GIVE_UP_AFTER = 3;

type Item = { message: Message; body: EventMessage };

type Row = PendingEvent;

/**
 * Writes a batch of events from herald-events, per tenant, in one INSERT. An event with a source id
 * (a provider's event id) gets an id derived from it, so a webhook delivered twice inserts once and
 * only newly inserted events have effects: hard bounces, complaints and unsubscribes feed the
 * suppression list, transactional emails get their last event, and outbound webhooks are queued
 * (coalesced for opens and clicks: see dispatch.ts). Opens and clicks from herald's tracking
 * endpoints are capped per message per minute (tracking-cap.ts). One event that cannot be stored never holds up the others: see storeOneByOne.
 */
export async function processEventsBatch(batch: MessageBatch, env: Env, ctx: ExecutionContext, logger: Logger): Promise<void> {
  const byTenant = parseAndGroup(batch, EventMessage, (b) => b.tenant_id, logger, "event");
  if (byTenant.size === 0) return;
  await withBatchServices(env, ctx, logger, async ({ db }) => {
    for (const [tenantId, items] of byTenant) {
      try {
        // One transaction for the whole group (the normal, fast path): if a side effect
        // fails, the events are not stored either, so the retry finds them new and runs every effect
        // again (a stored event would be skipped as a duplicate).
        await db.transaction((tx) =>
          storeEvents(
            tx,
            env,
            tenantId,
            items.map((i) => i.body.event),
          ),
        );
        for (const i of items) i.message.ack();
      } catch (err) {
        if (items.length === 1) retry(items[0]!, err, tenantId, logger);
        else {
          logger.warn("events not stored together; storing them one by one", { err, tenant_id: tenantId, events: items.length });
          await storeOneByOne(db, env, tenantId, items, logger);
        }
      }
    }
  });
}

/**
 * The group's transaction failed, so some event in it (a value PostgreSQL rejects, a side effect that
 * throws for it) may be poison. Each event is stored in its own transaction, with its side effects as
 * before: the good ones are stored and acked, and only a failing one is retried, with backoff.
 *
 * A message that keeps failing is retried until Queues moves it to herald-events-dlq (max_retries in
 * wrangler.jsonc), whose consumer logs it as an error with its id and acks it. It is not acked here
 * after N attempts: a failure here cannot be told from a transient one (the database blinking during
 * the fallback), and the dead-letter queue keeps the event where it can be inspected and replayed.
 * Either way its batch-mates were acked already, so it blocks nobody.
 */
async function storeOneByOne(db: Db, env: Env, tenantId: string, items: Item[], logger: Logger): Promise<void> {
  // Oldest first, so an email's last_event ends at its newest event, as in the one-INSERT path.
  const ordered = [...items].sort((a, b) => Date.parse(a.body.event.occurred_at) - Date.parse(b.body.event.occurred_at));
  let stored = 0;
  let failed = 0;
  for (const [n, item] of ordered.entries()) {
    if (stored === 0 && failed >= GIVE_UP_AFTER) {
      logger.warn("events failing one by one too; retrying the rest", { tenant_id: tenantId, events: ordered.length - n });
      for (const rest of ordered.slice(n)) rest.message.retry({ delaySeconds: backoffSeconds(rest.message.attempts) });
      return;
    }
    try {
      await db.transaction((tx) => storeEvents(tx, env, tenantId, [item.body.event]));
      item.message.ack();
      stored++;
    } catch (err) {
      failed++;
      retry(item, err, tenantId, logger);
    }
  }
}

function retry(item: Item, err: unknown, tenantId: string, logger: Logger) {
  const delaySeconds = backoffSeconds(item.message.attempts);
  logger.warn("event not stored; retrying", {
    err,
    tenant_id: tenantId,
    message_id: item.message.id,
    attempts: item.message.attempts,
    delay_seconds: delaySeconds,
  });
  item.message.retry({ delaySeconds });
}

export async function storeEvents(db: Db, env: Env, tenantId: string, inputs: EventInput[]): Promise<StoredEvent[]> {
  const prepared: Row[] = await Promise.all(
    inputs.map(cleanEvent).map(async (input) => ({
      month: monthOf(Date.parse(input.occurred_at)),
      id: input.provider_event_id ? uuidFromHash(await sha256Hex(`${tenantId}\n${input.source}\n${input.provider_event_id}`)) : uuidv7(),
      input,
    })),
  );
  // Tracking opens and clicks past their per-minute cap are dropped here, before they cost a row.
  const rows = await capTrackingEvents(db, tenantId, prepared);
  if (rows.length === 0) return [];
  await fillFromMessageLog(db, tenantId, rows);
  const stored = await insertEvents(db, tenantId, rows);
  if (stored.length === 0) return stored;

  const suppressions: SuppressionEntry[] = [];
  for (const e of stored) {
    if (!e.email) continue;
    if (e.type === "bounced" && e.data.bounce_type === "hard")
      suppressions.push({ email: e.email, reason: "bounce", note: "hard bounce reported by the provider" });
    else if (e.type === "complained")
      suppressions.push({ email: e.email, reason: "complaint", note: "spam complaint reported by the provider" });
    else if (e.type === "unsubscribed") suppressions.push({ email: e.email, reason: "unsubscribe" });
  }
  if (suppressions.length > 0) await suppress(db, tenantId, suppressions);

  // The newest event of each transactional email becomes its last_event (campaign ids match no email row).
  const latest = new Map<string, StoredEvent>();
  for (const e of stored)
    if (e.messageId && (!latest.has(e.messageId) || latest.get(e.messageId)!.occurredAt <= e.occurredAt)) latest.set(e.messageId, e);
  const updates = [...latest.values()].filter((e) => e.type !== "sent" && e.type !== "failed");
  if (updates.length > 0) await setLastEvents(db, tenantId, updates);
  await dispatchWebhooks(db, env, tenantId, stored);
  return stored;
}

/**
 * A provider's webhook names herald's message id but not the campaign or, sometimes, the address:
 * both come from the message log. A message lives in its campaign's launch month, or for
 * transactional mail in its id's month, so two partitions at most are read.
 */
async function fillFromMessageLog(db: Db, tenantId: string, rows: Row[]) {
  const wanted = rows.filter((r) => r.input.message_id && (!r.input.campaign_id || !r.input.email));
  if (wanted.length === 0) return;
  const byId = await messageLogEntries(db, tenantId, [...new Set(wanted.map((r) => r.input.message_id!))]);
  for (const r of wanted) {
    const m = byId.get(r.input.message_id!);
    if (!m) continue;
    r.input = { ...r.input, campaign_id: r.input.campaign_id ?? m.campaign_id ?? undefined, email: r.input.email ?? m.email };
  }
}
