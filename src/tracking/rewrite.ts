import { isHttpUrl } from "./token";

export interface RewriteOptions {
  /**
   * Returns the tracked URL for an absolute http(s) link target (entities already decoded).
   * Called at most once per distinct target within one rewriteHtml call. Errors propagate; return
   * the target itself to leave a link as it is.
   */
  clickUrl?: (target: string) => Promise<string>;
  /** If set, a 1x1 hidden <img> with this src goes just before the first </body> (or at the end). */
  openPixelUrl?: string;
  /** Targets for which this returns true are left alone (e.g. our own unsubscribe links, ".../u/..."). */
  skip?: (url: string) => boolean;
}

/**
 * Rewrites the href of every <a> tag whose target is an absolute http(s) URL through
 * opts.clickUrl, and injects the open pixel. Everything else (comments, <link>, <base>, <script>
 * and <style> contents, mailto:/tel:/#/relative links) is copied through byte for byte.
 *
 * The scanner follows the HTML tokenizer closely enough to agree with browsers on where tags,
 * attributes and comments start and end, and it never looks at a character more than a constant
 * number of times, so hostile input costs linear time.
 */
export async function rewriteHtml(html: string, opts: RewriteOptions): Promise<string> {
  const edits: { start: number; end: number; target: string }[] = [];
  const memo = new Map<string, Promise<string>>();
  let bodyEnd = -1;

  const n = html.length;
  let i = 0;
  while (i < n) {
    const lt = html.indexOf("<", i);
    if (lt < 0) break;
    const next = html.charCodeAt(lt + 1);

    if (next === 0x21 /* ! */) {
      if (html.startsWith("<!--", lt)) {
        i = commentEnd(html, lt + 4);
      } else {
        // <!DOCTYPE>, <![CDATA[ ]]> (outside foreign content), <![if mso]>: all end at the first ">".
        i = indexAfter(html, ">", lt + 2);
      }
      continue;
    }
    if (next === 0x3f /* ? */) {
      i = indexAfter(html, ">", lt + 2);
      continue;
    }
    if (next === 0x2f /* / */) {
      if (isAsciiAlpha(html.charCodeAt(lt + 2))) {
        const nameEnd = tagNameEnd(html, lt + 2);
        const tag = scanAttributes(html, nameEnd, false);
        if (tag.end < 0) break;
        if (bodyEnd < 0 && html.slice(lt + 2, nameEnd).toLowerCase() === "body") bodyEnd = lt;
        i = tag.end;
      } else {
        // "</>" is dropped; "</" + anything else is a bogus comment up to ">".
        i = indexAfter(html, ">", lt + 2);
      }
      continue;
    }
    if (!isAsciiAlpha(next)) {
      i = lt + 1; // a literal "<" in text
      continue;
    }

    const nameEnd = tagNameEnd(html, lt + 1);
    const name = html.slice(lt + 1, nameEnd).toLowerCase();
    const isAnchor = name === "a";
    const tag = scanAttributes(html, nameEnd, isAnchor);
    if (tag.end < 0) break; // unterminated tag: browsers drop it, so do we (by leaving it alone)
    i = tag.end;

    if (isAnchor && tag.href && opts.clickUrl) {
      const raw = html.slice(tag.href.valueStart, tag.href.valueEnd);
      const target = cleanUrl(decodeEntities(raw));
      if (isHttpUrl(target) && !opts.skip?.(target)) {
        if (!memo.has(target)) memo.set(target, opts.clickUrl(target));
        edits.push({ start: tag.href.start, end: tag.href.end, target });
      }
    }

    if (RAW_TEXT.has(name)) {
      if (name === "plaintext") break;
      i = rawTextEnd(html, name, i);
    }
  }

  if (edits.length === 0 && !opts.openPixelUrl) return html;

  const resolved = new Map<string, string>();
  await Promise.all(
    Array.from(memo, async ([target, url]) => {
      resolved.set(target, await url);
    }),
  );

  const pixel = !opts.openPixelUrl
    ? ""
    : `<img src="${escapeAttribute(opts.openPixelUrl)}" width="1" height="1" alt="" style="display:none">`;
  const pixelAt = bodyEnd < 0 ? n : bodyEnd;

  const out: string[] = [];
  let copied = 0;
  let pixelDone = pixel === "";
  for (const edit of edits) {
    if (!pixelDone && pixelAt <= edit.start) {
      out.push(html.slice(copied, pixelAt), pixel);
      copied = pixelAt;
      pixelDone = true;
    }
    out.push(html.slice(copied, edit.start), `"${escapeAttribute(resolved.get(edit.target)!)}"`);
    copied = edit.end;
  }
  if (!pixelDone) {
    out.push(html.slice(copied, pixelAt), pixel);
    copied = pixelAt;
  }
  out.push(html.slice(copied));
  return out.join("");
}

// Elements whose content the tokenizer does not parse as markup.
const RAW_TEXT = new Set(["script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "plaintext"]);

function isAsciiAlpha(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d;
}

/** Index just after the next `needle` at or after `from`, or the end of the input. */
function indexAfter(html: string, needle: string, from: number): number {
  const at = html.indexOf(needle, from);
  return at < 0 ? html.length : at + needle.length;
}

/** End of a comment whose "<!--" ends just before `from` (handles "<!-->", "<!--->" and "--!>"). */
function commentEnd(html: string, from: number): number {
  if (html.startsWith(">", from)) return from + 1;
  if (html.startsWith("->", from)) return from + 2;
  const re = /--!?>/g;
  re.lastIndex = from;
  const m = re.exec(html);
  return m ? m.index + m[0].length : html.length;
}

/** A tag name runs up to whitespace, "/" or ">". */
function tagNameEnd(html: string, from: number): number {
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
function scanAttributes(html: string, from: number, wantHref: boolean): { end: number; href?: HrefSpan } {
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
function rawTextEnd(html: string, name: string, from: number): number {
  const re = new RegExp(`</${name}[\\t\\n\\f\\r />]`, "gi");
  re.lastIndex = from;
  const m = re.exec(html);
  if (!m) return html.length;
  const tag = scanAttributes(html, m.index + 2 + name.length, false);
  return tag.end < 0 ? html.length : tag.end;
}

/** What the URL parser does to an href before anything else: trim C0/space, drop tabs and newlines. */
function cleanUrl(url: string): string {
  // Trimmed by hand: a regex like /\s+$/ backtracks quadratically over long inner runs of spaces.
  let start = 0;
  let end = url.length;
  while (start < end && url.charCodeAt(start) <= 0x20) start++;
  while (end > start && url.charCodeAt(end - 1) <= 0x20) end--;
  return url.slice(start, end).replace(/[\t\n\r]/g, "");
}

// Named references worth knowing inside a URL. Anything else is left as written.
const NAMED = new Map<string, string>(
  Object.entries({
    amp: "&",
    lt: "<",
    gt: ">",
    quot: '"',
    apos: "'",
    nbsp: "\u00a0",
    sol: "/",
    colon: ":",
    period: ".",
    comma: ",",
    semi: ";",
    equals: "=",
    quest: "?",
    num: "#",
    percnt: "%",
    plus: "+",
    commat: "@",
    excl: "!",
    lpar: "(",
    rpar: ")",
    lowbar: "_",
    dollar: "$",
    ast: "*",
    tilde: "~",
    Tab: "\t",
    NewLine: "\n",
    AMP: "&",
    LT: "<",
    GT: ">",
    QUOT: '"',
  }),
);
// References browsers also honour without the ";" (in attributes only when not followed by "=").
const LEGACY = new Set(["amp", "lt", "gt", "quot", "nbsp", "AMP", "LT", "GT", "QUOT"]);

// Windows-1252 meanings browsers give to &#128; .. &#159;.
const C1: Record<number, number> = {
  128: 0x20ac,
  130: 0x201a,
  131: 0x0192,
  132: 0x201e,
  133: 0x2026,
  134: 0x2020,
  135: 0x2021,
  136: 0x02c6,
  137: 0x2030,
  138: 0x0160,
  139: 0x2039,
  140: 0x0152,
  142: 0x017d,
  145: 0x2018,
  146: 0x2019,
  147: 0x201c,
  148: 0x201d,
  149: 0x2022,
  150: 0x2013,
  151: 0x2014,
  152: 0x02dc,
  153: 0x2122,
  154: 0x0161,
  155: 0x203a,
  156: 0x0153,
  158: 0x017e,
  159: 0x0178,
};

function codePoint(digits: string, radix: number): string {
  // Long digit runs are out of range however they continue; do not let parseInt see megabytes.
  const trimmed = digits.replace(/^0+/, "");
  let cp = trimmed.length > 8 ? Infinity : trimmed === "" ? 0 : parseInt(trimmed, radix);
  if (cp === 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return "\ufffd";
  cp = C1[cp] ?? cp;
  return String.fromCodePoint(cp);
}

/** Decodes character references in an attribute value the way a browser would (for the common ones). */
export function decodeEntities(value: string): string {
  if (!value.includes("&")) return value;
  return value.replace(
    /&(?:#[xX]([0-9a-fA-F]+);?|#([0-9]+);?|([A-Za-z][A-Za-z0-9]*)(;?))/g,
    (whole, hexDigits, decDigits, name, semi, offset: number) => {
      if (hexDigits !== undefined) return codePoint(hexDigits, 16);
      if (decDigits !== undefined) return codePoint(decDigits, 10);
      const text = NAMED.get(name as string);
      if (text === undefined) return whole;
      if (semi === ";") return text;
      const after = value.charCodeAt(offset + whole.length);
      return LEGACY.has(name as string) && after !== 0x3d /* = */ ? text : whole;
    },
  );
}

/** Escapes text for a double-quoted attribute value. */
export function escapeAttribute(value: string): string {
  return value.replace(/[&"'<>]/g, (c) => (c === "&" ? "&amp;" : c === '"' ? "&quot;" : c === "'" ? "&#39;" : c === "<" ? "&lt;" : "&gt;"));
}
