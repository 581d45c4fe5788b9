/**
 * Text from third parties (provider answers, webhook payloads, contact data) may hold lone UTF-16
 * surrogates, which PostgreSQL text and JSON encoders reject. These helpers make any string safe to
 * store and log: lone surrogates become U+FFFD, and clipping never splits a surrogate pair.
 */

/** The string with every lone surrogate replaced by U+FFFD. */
export function wellFormed(text: string): string {
  return text.isWellFormed() ? text : text.toWellFormed();
}

/** At most `max` code points of a well-formed copy of `text`, ending in "…" when clipped. */
export function clipCodePoints(text: string, max: number): string {
  const safe = wellFormed(text);
  // Fast path: a string of at most `max` UTF-16 units has at most `max` code points.
  if (safe.length <= max) return safe;
  const points = Array.from(safe);
  if (points.length <= max) return safe;
  return `${points.slice(0, Math.max(0, max - 1)).join("")}…`;
}
