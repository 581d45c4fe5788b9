// The parts of the HTML tokenizer that rewriteHtml (rewrite.ts) follows: where tags, attributes,
// comments and raw-text elements start and end, each in time linear in what it scans.

// Elements whose content the tokenizer does not parse as markup.
export const RAW_TEXT = new Set(["script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "plaintext"]);

export function isAsciiAlpha(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d;
}

/** Index just after the next `needle` at or after `from`, or the end of the input. */
export function indexAfter(html: string, needle: string, from: number): number {
  const at = html.indexOf(needle, from);
  return at < 0 ? html.length : at + needle.length;
}

/** End of a comment whose "<!--" ends just before `from` (handles "<!-->", "<!--->" and "--!>"). */
export function commentEnd(html: string, from: number): number {
  if (html.startsWith(">", from)) return from + 1;
  if (html.startsWith("->", from)) return from + 2;
  const re = /--!?>/g;
  re.lastIndex = from;
  const m = re.exec(html);
  return m ? m.index + m[0].length : html.length;
}

/** A tag name runs up to whitespace, "/" or ">". */
export function tagNameEnd(html: string, from: number): number {
  let j = from;
  while (j < html.length) {
    const c = html.charCodeAt(j);
    if (isSpace(c) || c === 0x2f || c === 0x3e) break;
    j++;
  }
  return j;
}

interface HrefSpan {
  /** Span of the whole value as written, quotes included. */
  start: number;
  end: number;
  /** Span of the value text itself. */
  valueStart: number;
  valueEnd: number;
}

/**
 * Walks the attributes of a tag from just after its name to its ">" and returns the index after
 * it (-1 when the input ends first) and, if asked, where the first href value is.
 */
export function scanAttributes(html: string, from: number, wantHref: boolean): { end: number; href?: HrefSpan } {
  const n = html.length;
  let href: HrefSpan | undefined;
  let j = from;
  for (;;) {
    // Before attribute name.
    while (j < n && (isSpace(html.charCodeAt(j)) || html.charCodeAt(j) === 0x2f)) j++;
    if (j >= n) return { end: -1 };
    if (html.charCodeAt(j) === 0x3e) return { end: j + 1, href };
    // Attribute name; a leading "=" belongs to it.
    const nameStart = j;
    j++;
    while (j < n) {
      const c = html.charCodeAt(j);
      if (isSpace(c) || c === 0x2f || c === 0x3e || c === 0x3d) break;
      j++;
    }
    const isHref = wantHref && href === undefined && j - nameStart === 4 && html.slice(nameStart, j).toLowerCase() === "href";
    // After attribute name.
    while (j < n && isSpace(html.charCodeAt(j))) j++;
    if (j >= n) return { end: -1 };
    if (html.charCodeAt(j) !== 0x3d) {
      // No value ("/" and ">" are handled at the top of the loop); a duplicate href keeps the first.
      if (isHref) href = { start: j, end: j, valueStart: j, valueEnd: j };
      continue;
    }
    j++;
    while (j < n && isSpace(html.charCodeAt(j))) j++;
    if (j >= n) return { end: -1 };
    const q = html.charCodeAt(j);
    if (q === 0x3e) {
      // `href=>`: missing value, the tag ends here.
      if (isHref) href = { start: j, end: j, valueStart: j, valueEnd: j };
      return { end: j + 1, href };
    }
    if (q === 0x22 || q === 0x27) {
      const close = html.indexOf(q === 0x22 ? '"' : "'", j + 1);
      if (close < 0) return { end: -1 };
      if (isHref) href = { start: j, end: close + 1, valueStart: j + 1, valueEnd: close };
      j = close + 1;
    } else {
      const valueStart = j;
      while (j < n) {
        const c = html.charCodeAt(j);
        if (isSpace(c) || c === 0x3e) break;
        j++;
      }
      if (isHref) href = { start: valueStart, end: j, valueStart, valueEnd: j };
    }
  }
}

/** Index after the end tag closing a raw-text element (or the end of the input). */
export function rawTextEnd(html: string, name: string, from: number): number {
  const re = new RegExp(`</${name}[\\t\\n\\f\\r />]`, "gi");
  re.lastIndex = from;
  const m = re.exec(html);
  if (!m) return html.length;
  const tag = scanAttributes(html, m.index + 2 + name.length, false);
  return tag.end < 0 ? html.length : tag.end;
}
