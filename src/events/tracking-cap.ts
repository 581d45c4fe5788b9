import { sql } from "drizzle-orm";
import { sha256Hex } from "../lib/encoding";
import { monthOf, uuidFromHash } from "../lib/ids";
import { pgArray } from "../lib/sql";
import type { Db } from "../services/db";
import type { EventInput } from "./message";

/**
 * Opens and clicks recorded from herald's own tracking endpoints, per message, per type, per UTC
 * minute. A person opening or clicking stays well under it; a link scanner or a reload loop is cut
 * off after it, so the events, their webhooks and the rows behind them stay bounded however often the
 * pixel or a link is hit. Unique opens and clicks (distinct messages) are unaffected: the first event
 * of a minute is always among those kept.
 */
export const TRACKING_EVENTS_PER_MINUTE = 5;

/** An event about to be inserted, with the partition and id it will be stored under. */
export interface PendingEvent {
  month: string;
  id: string;
  input: EventInput;
}

const MINUTE_MS = 60_000;

/** Events the cap applies to: opens and clicks that came through /t/o and /t/c. */
function capped(input: EventInput): input is EventInput & { message_id: string } {
  return input.source === "tracking" && (input.type === "opened" || input.type === "clicked") && input.message_id !== undefined;
}

/**
 * Enforces TRACKING_EVENTS_PER_MINUTE where events are stored, so the cap holds whichever isolates
 * the hits landed on. Each (message, type, minute) has that many slots, and a slot is an event id
 * derived from them: a capped event takes the first slot no stored event has, and the events primary
 * key decides between two consumers racing for the same slot (the loser is dropped, never a second
 * row). Events past the last slot are dropped. Everything else passes through untouched.
 */
export async function capTrackingEvents<T extends PendingEvent>(db: Db, tenantId: string, rows: T[]): Promise<T[]> {
  const groups = new Map<string, { month: string; slots: string[] }>();
  const groupOf = new Map<T, string>();
  for (const row of rows) {
    if (!capped(row.input)) continue;
    const minute = Math.floor(Date.parse(row.input.occurred_at) / MINUTE_MS) * MINUTE_MS;
    const key = `${row.input.type}:${row.input.message_id}:${new Date(minute).toISOString()}`;
    groupOf.set(row, key);
    if (!groups.has(key)) groups.set(key, { month: monthOf(minute), slots: await slotIds(tenantId, key) });
  }
  if (groups.size === 0) return rows;

  const all = [...groups.values()];
  const taken = await db.execute<{ id: string }>(sql`
    SELECT id FROM events
    WHERE tenant_id = ${tenantId} AND month = ANY(${pgArray([...new Set(all.map((g) => g.month))])}::date[])
      AND id = ANY(${pgArray(all.flatMap((g) => g.slots))}::uuid[])`);
  const used = new Set(taken.rows.map((r) => r.id));

  const out: T[] = [];
  for (const row of rows) {
    const key = groupOf.get(row);
    if (key === undefined) {
      out.push(row);
      continue;
    }
    const group = groups.get(key)!;
    const free = group.slots.find((id) => !used.has(id));
    if (free === undefined) continue;
    used.add(free);
    out.push({ ...row, month: group.month, id: free });
  }
  return out;
}

async function slotIds(tenantId: string, key: string): Promise<string[]> {
  return Promise.all(
    Array.from({ length: TRACKING_EVENTS_PER_MINUTE }, async (_, slot) =>
      uuidFromHash(await sha256Hex(`${tenantId}\ntracking-slot\n${key}\n${slot}`)),
    ),
  );
}
