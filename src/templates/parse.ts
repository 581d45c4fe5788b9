/** One piece of a template part: literal text, or a tag to fill at render time. */
export type Segment = string | Tag;

export interface Tag {
  /** The variable path with whitespace removed, e.g. "attributes.plan". */
  path: string;
  /** `{{{ path }}}`: inserted without HTML escaping. */
  raw: boolean;
  /** The literal after `|`, used when the value is missing, null or empty. */
  fallback: string | undefined;
}

/** Thrown with a message that says what is wrong and where; the caller adds which part it was. */
export class TemplateParseError extends Error {}

const PATH_CHAR = /[A-Za-z0-9_.-]/;
const SEGMENT = /^[A-Za-z0-9_-]+$/;

function where(src: string, index: number): string {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < index; i++) {
    if (src.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return `line ${line}, column ${index - lineStart + 1}`;
}

function skipSpaces(src: string, i: number): number {
  while (i < src.length && (src[i] === " " || src[i] === "\t" || src[i] === "\n" || src[i] === "\r")) i++;
  return i;
}

/** Reads a quoted default starting at the opening quote; returns its value and the index after it. */
function readQuoted(src: string, start: number, opened: number): [string, number] {
  const quote = src[start]!;
  let out = "";
  let i = start + 1;
  while (i < src.length) {
    const ch = src[i]!;
    if (ch === "\\" && i + 1 < src.length) {
      out += src[i + 1];
      i += 2;
      continue;
    }
    if (ch === quote) return [out, i + 1];
    out += ch;
    i++;
  }
  throw new TemplateParseError(`unterminated default string in the tag opened at ${where(src, opened)}`);
}

function checkPath(src: string, path: string, opened: number): void {
  if (path === "") throw new TemplateParseError(`empty variable name in the tag at ${where(src, opened)}`);
  for (const segment of path.split(".")) {
    if (!SEGMENT.test(segment)) {
      throw new TemplateParseError(`"${path}" at ${where(src, opened)} has an empty segment; use names like attributes.plan`);
    }
  }
}

function describe(ch: string | undefined): string {
  return ch === undefined ? "the end of the template" : JSON.stringify(ch);
}

/** Parses `{{ path }}`, `{{{ path }}}` and `{{ path | "default" }}` tags out of literal text. */
export function parseTemplate(src: string): Segment[] {
  const out: Segment[] = [];
  let pos = 0;
  while (pos < src.length) {
    const opened = src.indexOf("{{", pos);
    if (opened < 0) break;
    if (opened > pos) out.push(src.slice(pos, opened));
    const raw = src[opened + 2] === "{";
    const close = raw ? "}}}" : "}}";
    let i = skipSpaces(src, opened + (raw ? 3 : 2));
    const pathStart = i;
    while (i < src.length && PATH_CHAR.test(src[i]!)) i++;
    const path = src.slice(pathStart, i);
    i = skipSpaces(src, i);
    let fallback: string | undefined;
    if (src[i] === "|") {
      checkPath(src, path, opened);
      i = skipSpaces(src, i + 1);
      if (src[i] !== '"' && src[i] !== "'") {
        if (i >= src.length) throw new TemplateParseError(`unclosed tag "${raw ? "{{{" : "{{"}" opened at ${where(src, opened)}`);
        throw new TemplateParseError(`expected a quoted default after "|" at ${where(src, i)}, found ${describe(src[i])}`);
      }
      [fallback, i] = readQuoted(src, i, opened);
      i = skipSpaces(src, i);
    }
    if (src.startsWith(close, i)) {
      checkPath(src, path, opened);
      out.push({ path, raw, fallback });
      pos = i + close.length;
      continue;
    }
    if (i >= src.length || src[i] === "}" || src.indexOf(close, i) < 0) {
      throw new TemplateParseError(`unclosed tag "${raw ? "{{{" : "{{"}" opened at ${where(src, opened)}; close it with "${close}"`);
    }
    throw new TemplateParseError(
      `unexpected ${describe(src[i])} at ${where(src, i)} in a tag; variable names use letters, digits, "_", "-" and "."`,
    );
  }
  if (pos < src.length) out.push(src.slice(pos));
  return out;
}
