// Character references in attribute values: decoded the way browsers do (for the references that
// matter in a URL), and escaped for a double-quoted value.

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
