import { parseTemplate, TemplateParseError, type Tag } from "./parse";

export interface TemplateSource {
  subject: string;
  html: string | null;
  text: string | null;
}

export interface MergeContext {
  email: string;
  name: string | null;
  attributes: Record<string, unknown>;
  campaign: Record<string, unknown>;
  /** reserved extras such as unsubscribe_url */
  extra?: Record<string, string>;
}

export interface RenderedEmail {
  subject: string;
  html: string | null;
  text: string | null;
}

export interface CompiledTemplate {
  /** distinct variable paths used, e.g. ["name","attributes.plan","campaign.promo"] */
  variables: string[];
  render(ctx: MergeContext): RenderedEmail;
}

export type TemplatePart = "subject" | "html" | "text";

export class TemplateSyntaxError extends Error {
  readonly part: TemplatePart;

  constructor(part: TemplatePart, message: string) {
    super(message);
    this.name = "TemplateSyntaxError";
    this.part = part;
  }
}

const EXTRAS = new Set(["unsubscribe_url", "view_in_browser_url"]);
const SCALAR_ROOTS = new Set(["email", "name", ...EXTRAS]);
const OBJECT_ROOTS = new Set(["attributes", "campaign"]);

/** Variables that no merge context can ever fill: an unknown root, a bare object root, or a key under a scalar. */
export function unknownVariables(variables: string[]): string[] {
  return variables.filter((path) => {
    const segments = path.split(".");
    const root = segments[0]!;
    if (segments.some((s) => s === "")) return true;
    if (SCALAR_ROOTS.has(root)) return segments.length !== 1;
    if (OBJECT_ROOTS.has(root)) return segments.length < 2;
    return true;
  });
}

type Getter = (ctx: MergeContext) => unknown;
type Piece = string | ((ctx: MergeContext) => string);

/**
 * Walks own properties only, so `attributes.constructor` or `__proto__` can never reach the
 * prototype. A key that itself contains dots ("company.name", as a CSV header would give) is found
 * when the nested walk misses.
 */
function lookup(root: unknown, keys: string[], flatRest: string[]): unknown {
  let cur = root;
  for (let i = 0; i < keys.length; i++) {
    if (cur === null || typeof cur !== "object") return undefined;
    const obj = cur as Record<string, unknown>;
    const key = keys[i]!;
    if (Object.hasOwn(obj, key)) {
      cur = obj[key];
      continue;
    }
    const rest = flatRest[i]!;
    return i < keys.length - 1 && Object.hasOwn(obj, rest) ? obj[rest] : undefined;
  }
  return cur;
}

function getterFor(path: string): Getter {
  if (unknownVariables([path]).length > 0) return () => undefined;
  if (path === "email") return (ctx) => ctx.email;
  if (path === "name") return (ctx) => ctx.name;
  if (EXTRAS.has(path)) return (ctx) => (ctx.extra && Object.hasOwn(ctx.extra, path) ? ctx.extra[path] : undefined);
  const [root, ...keys] = path.split(".");
  const flatRest = keys.map((_, i) => keys.slice(i).join("."));
  return root === "attributes" ? (ctx) => lookup(ctx.attributes, keys, flatRest) : (ctx) => lookup(ctx.campaign, keys, flatRest);
}

/** The value as text, or undefined when it should fall back to the default. */
function toText(value: unknown): string | undefined {
  switch (typeof value) {
    case "string":
      return value === "" ? undefined : value;
    case "number":
    case "boolean":
    case "bigint":
      return String(value);
    case "object":
      if (value === null) return undefined;
      try {
        return JSON.stringify(value);
      } catch {
        return undefined;
      }
    default:
      return undefined;
  }
}

const HTML_SPECIAL = /[&<>"']/;
const HTML_SPECIAL_ALL = /[&<>"']/g;
const HTML_ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function escapeHtml(text: string): string {
  return HTML_SPECIAL.test(text) ? text.replace(HTML_SPECIAL_ALL, (ch) => HTML_ENTITIES[ch]!) : text;
}

const LINE_BREAKS = /[\r\n]/;
const LINE_BREAKS_ALL = /[\r\n]/g;

/** A merged value must never start a new header line. */
function oneLine(text: string): string {
  return LINE_BREAKS.test(text) ? text.replace(LINE_BREAKS_ALL, " ") : text;
}

function formatterFor(part: TemplatePart, tag: Tag): (text: string) => string {
  if (part === "subject") return oneLine;
  if (part === "html" && !tag.raw) return escapeHtml;
  return (text) => text;
}

function compilePart(part: TemplatePart, source: string, variables: Set<string>): Piece[] {
  let segments: ReturnType<typeof parseTemplate>;
  try {
    segments = parseTemplate(source);
  } catch (err) {
    if (err instanceof TemplateParseError) throw new TemplateSyntaxError(part, err.message);
    throw err;
  }
  return segments.map((segment): Piece => {
    if (typeof segment === "string") return segment;
    variables.add(segment.path);
    const get = getterFor(segment.path);
    const format = formatterFor(part, segment);
    const fallback = segment.fallback === undefined ? "" : format(segment.fallback);
    return (ctx) => {
      const text = toText(get(ctx));
      return text === undefined ? fallback : format(text);
    };
  });
}

function renderPieces(pieces: Piece[], ctx: MergeContext): string {
  let out = "";
  for (const piece of pieces) out += typeof piece === "string" ? piece : piece(ctx);
  return out;
}

/** Parses once into literal and variable pieces, so each recipient's render is a single pass of concatenation. */
export function compileTemplate(src: TemplateSource): CompiledTemplate {
  const variables = new Set<string>();
  const subject = compilePart("subject", src.subject, variables);
  const html = src.html === null ? null : compilePart("html", src.html, variables);
  const text = src.text === null ? null : compilePart("text", src.text, variables);
  return {
    variables: [...variables],
    render: (ctx) => ({
      subject: renderPieces(subject, ctx),
      html: html === null ? null : renderPieces(html, ctx),
      text: text === null ? null : renderPieces(text, ctx),
    }),
  };
}
