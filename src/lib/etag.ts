/**
 * A weak ETag from a resource's version, for routes whose body is a function of one row: cheaper
 * than hashing the body (hono/etag), which showed up as a quarter of a cached read's CPU.
 */
export function versionEtag(...parts: (string | number)[]): string {
  return `W/"${parts.join("-")}"`;
}

/** If-None-Match (RFC 9110 §13.1.2): weak comparison against any listed tag, or "*". */
export function matchesIfNoneMatch(header: string | undefined, tag: string): boolean {
  if (!header) return false;
  const opaque = (t: string) => t.trim().replace(/^W\//, "");
  const want = opaque(tag);
  return header.split(",").some((t) => t.trim() === "*" || opaque(t) === want);
}
