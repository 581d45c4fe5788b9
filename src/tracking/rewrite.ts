import { decodeEntities, escapeAttribute } from "./html-entities";
import { commentEnd, indexAfter, isAsciiAlpha, RAW_TEXT, rawTextEnd, scanAttributes, tagNameEnd } from "./html-scan";
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

/** What the URL parser does to an href before anything else: trim C0/space, drop tabs and newlines. */
function cleanUrl(url: string): string {
  // Trimmed by hand: a regex like /\s+$/ backtracks quadratically over long inner runs of spaces.
  let start = 0;
  let end = url.length;
  while (start < end && url.charCodeAt(start) <= 0x20) start++;
  while (end > start && url.charCodeAt(end - 1) <= 0x20) end--;
  return url.slice(start, end).replace(/[\t\n\r]/g, "");
}
