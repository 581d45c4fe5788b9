import type { FieldError } from "../errors";
import { clipCodePoints } from "./text";

/**
 * The deepest nesting of arrays and objects herald reads from a JSON body. No API shape needs more
 * than a handful of levels (contact attributes and template data are the deepest); 32 leaves room
 * for callers' own structures while keeping every later walk over the value (validation, the
 * string checks below, JSON columns) shallow.
 */
export const MAX_JSON_DEPTH = 32;

/**
 * Whether JSON text nests arrays or objects deeper than `max`. A single scan over the text, before
 * anything parses or walks it, so a 10,000-deep body costs one pass and no recursion. Brackets
 * inside strings do not count; the text need not be valid JSON (the parser decides that later).
 */
export function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c)
        i++; // backslash: skip the escaped character
      else if (ch === 0x22) inString = false;
    } else if (ch === 0x22) inString = true;
    else if (ch === 0x5b || ch === 0x7b) {
      if (++depth > max) return true;
    } else if (ch === 0x5d || ch === 0x7d) depth--;
  }
  return false;
}

const MAX_STRING_ERRORS = 20;
/** Field names echo the caller's keys; a megabyte-long key is named by its start. */
const MAX_KEY_ECHO = 64;

/** Why PostgreSQL (or any JSON encoder downstream) could not store this string, if it could not. */
function unstorable(text: string): string | undefined {
  if (text.includes("\0")) return "NUL characters";
  if (!text.isWellFormed()) return "lone UTF-16 surrogates";
  return undefined;
}

/**
 * The paths of strings (values or keys) that cannot be stored as sent: NUL (PostgreSQL text cannot
 * hold it) and lone surrogates (not Unicode; the driver would silently replace them, so what is
 * stored would differ from what was accepted). At most a few are reported. The value's depth is
 * already bounded by MAX_JSON_DEPTH, so the recursion is too.
 */
export function unstorableStrings(value: unknown, path: string[], out: FieldError[] = []): FieldError[] {
  if (out.length >= MAX_STRING_ERRORS) return out;
  if (typeof value === "string") {
    const why = unstorable(value);
    if (why) out.push({ field: path.join("."), message: `must not contain ${why}` });
  } else if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) unstorableStrings(v, [...path, String(i)], out);
  } else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      const why = unstorable(k);
      if (why) out.push({ field: [...path, echoKey(k)].join("."), message: `keys must not contain ${why}` });
      else unstorableStrings(v, [...path, k], out);
    }
  }
  return out;
}

/** A key as it may appear in a field name: printable, well-formed and short. */
export function echoKey(key: string): string {
  return clipCodePoints(key.replace(/\0/g, "\\0"), MAX_KEY_ECHO);
}
