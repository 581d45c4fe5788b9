/** UUIDv7: time-ordered, so keyset pagination by id follows creation order. */
export function uuidv7(now = Date.now()): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let ts = now;
  for (let i = 5; i >= 0; i--) {
    bytes[i] = ts & 0xff;
    ts = Math.floor(ts / 256);
  }
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const h = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: unknown): value is string {
  return typeof value === "string" && UUID.test(value);
}

/** The first day (YYYY-MM-DD, UTC) of the month a UUIDv7 was minted in: its message-log partition. */
export function monthOfUuidv7(id: string): string {
  const ms = Number.parseInt(id.replace(/-/g, "").slice(0, 12), 16);
  // Not a v7 id of this era (a hostile or foreign id): the current month, never an invalid date.
  const plausible = Number.isFinite(ms) && ms >= Date.UTC(2020, 0, 1) && ms < Date.UTC(9999, 0, 1);
  return monthOf(plausible ? ms : Date.now());
}

/** The first day (YYYY-MM-DD, UTC) of the month `ms` falls in, `monthsBefore` months earlier: a partition key. */
export function monthOf(ms: number, monthsBefore = 0): string {
  const d = new Date(ms);
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - monthsBefore, 1)).toISOString().slice(0, 10);
}

/** A UUID (version 8, RFC 9562) derived from a SHA-256 hex digest: the same input always gives the same id. */
export function uuidFromHash(hex: string): string {
  const h = hex.slice(0, 32).split("");
  h[12] = "8";
  h[16] = ((Number.parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  const s = h.join("");
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20, 32)}`;
}
