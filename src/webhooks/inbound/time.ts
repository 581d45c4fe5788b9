// Signature timestamps and event times as providers send them.

/** Unix seconds as sent in a signature header; digits only, so "1e9" or " 12" cannot slip through. */
export function unixSeconds(text: string | null | undefined): number | undefined {
  return text && /^\d{1,12}$/.test(text) ? Number(text) : undefined;
}

export function outsideWindow(atMs: number, nowMs: number, toleranceMs: number): boolean {
  return Math.abs(nowMs - atMs) > toleranceMs;
}

/** ISO string from an ISO-ish date string or unix seconds (Mailgun sends fractional seconds). */
export function toIso(value: unknown): string | undefined {
  const ms = typeof value === "number" ? value * 1000 : typeof value === "string" ? Date.parse(value) : NaN;
  if (!Number.isFinite(ms)) return undefined;
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}
