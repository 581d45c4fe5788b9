// The pieces of factoring (see factor.ts) that describe texts: a factored part and how a member's
// text comes back from it, the runs alignment finds, and the UTF-8 weights budgets are counted in.

/** One part (e.g. the html) of a group's emails: the shared text with numbered holes, and each member's hole values. */
export interface Factored {
  /** In order: shared text (strings) and holes (their numbers, 0, 1, 2, … each once). */
  pieces: (string | number)[];
  /** values[m][h]: member m's text for hole h; never empty. */
  values: string[][];
}

/** A run of text the same in the reference (from `ref`) and another email (from `at`). */
export interface Block {
  ref: number;
  at: number;
  len: number;
}

export type Interval = [start: number, end: number];

/** Member k's text of a factored part. */
export function join(part: Factored, k: number): string {
  return part.pieces.map((piece) => (typeof piece === "number" ? part.values[k]![piece]! : piece)).join("");
}

/** Cuts each member's text at the shared intervals, then removes empty values (see below). */
export function build(ref: string, fixed: Interval[], members: { text: string; blocks: Block[] }[]): Factored {
  type Seg = { fixed: string } | { values: string[] };
  const segs: Seg[] = [];
  const cuts = members.map(({ text, blocks }) => {
    // Where each shared interval starts in this member's text.
    const starts: number[] = [];
    let b = 0;
    for (const [s, e] of fixed) {
      while (blocks[b]!.ref + blocks[b]!.len < e) b++;
      starts.push(blocks[b]!.at + (s - blocks[b]!.ref));
    }
    const values: string[] = [];
    let from = 0;
    fixed.forEach(([s, e], k) => {
      values.push(text.slice(from, starts[k]!));
      from = starts[k]! + (e - s);
    });
    values.push(text.slice(from));
    return values;
  });
  fixed.forEach(([s, e], k) => {
    segs.push({ values: cuts.map((v) => v[k]!) });
    segs.push({ fixed: ref.slice(s, e) });
  });
  segs.push({ values: cuts.map((v) => v[fixed.length]!) });

  // A hole empty for every member is no hole; one empty for some takes a character from the
  // shared text next to it, so no member's value is ever empty.
  const isHole = (seg: Seg | undefined): seg is { values: string[] } => seg !== undefined && "values" in seg;
  for (let k = 0; k < segs.length; ) {
    const seg = segs[k]!;
    if (!isHole(seg) || seg.values.every((v) => v !== "")) {
      k++;
      continue;
    }
    if (seg.values.every((v) => v === "")) {
      segs.splice(k, 1);
      const [before, after] = [segs[k - 1], segs[k]];
      if (before && after && !isHole(before) && !isHole(after)) segs.splice(k - 1, 2, { fixed: before.fixed + after.fixed });
      k = Math.max(0, k - 1);
      continue;
    }
    const after = segs[k + 1];
    const before = segs[k - 1];
    if (after && !isHole(after)) {
      const n = codePointLength(after.fixed, 0);
      const c = after.fixed.slice(0, n);
      seg.values = seg.values.map((v) => v + c);
      after.fixed = after.fixed.slice(n);
      if (after.fixed === "") {
        segs.splice(k + 1, 1);
        const following = segs[k + 1];
        if (isHole(following)) {
          seg.values = seg.values.map((v, m) => v + following.values[m]!);
          segs.splice(k + 1, 1);
        }
      }
    } else if (before && !isHole(before)) {
      const n = codePointLengthBefore(before.fixed, before.fixed.length);
      const c = before.fixed.slice(before.fixed.length - n);
      seg.values = seg.values.map((v) => c + v);
      before.fixed = before.fixed.slice(0, before.fixed.length - n);
      if (before.fixed === "") {
        segs.splice(k - 1, 1);
        k--;
        const preceding = segs[k - 1];
        if (isHole(preceding)) {
          seg.values = preceding.values.map((v, m) => v + seg.values[m]!);
          segs.splice(k - 1, 1);
          k--;
        }
      }
    } else k++; // the whole text is one hole, and a member's text is never empty
  }
  const pieces: (string | number)[] = [];
  const values: string[][] = members.map(() => []);
  for (const seg of segs) {
    if (!isHole(seg)) pieces.push(seg.fixed);
    else {
      pieces.push(values[0]!.length);
      for (const [m, v] of seg.values.entries()) values[m]!.push(v);
    }
  }
  return { pieces, values };
}

export const isHigh = (c: number) => c >= 0xd800 && c <= 0xdbff;
export const isLow = (c: number) => c >= 0xdc00 && c <= 0xdfff;

function codePointLength(s: string, at: number): number {
  return isHigh(s.charCodeAt(at)) && isLow(s.charCodeAt(at + 1)) ? 2 : 1;
}

function codePointLengthBefore(s: string, end: number): number {
  return end >= 2 && isLow(s.charCodeAt(end - 1)) && isHigh(s.charCodeAt(end - 2)) ? 2 : 1;
}

/**
 * A code unit's weight: its share of the text's UTF-8 size (a surrogate pair is 4 bytes). It adds
 * up over a string. What JSON escapes add is not counted: the budget leaves room for it, and the
 * caller checks the exact JSON size.
 */
function unitWeight(c: number): number {
  if (c < 0x80) return 1;
  if (c < 0x800 || (c >= 0xd800 && c <= 0xdfff)) return 2;
  return 3;
}

const encoder = new TextEncoder();
let scratch = new Uint8Array(1 << 16);

/** The weight of a whole text (see unitWeight), computed natively: its UTF-8 size. */
export function weightOfText(text: string): number {
  if (scratch.length < text.length * 3) scratch = new Uint8Array(text.length * 3);
  return encoder.encodeInto(text, scratch).written;
}

export function prefixWeights(text: string): Float64Array {
  const out = new Float64Array(text.length + 1);
  let w = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    w += c < 0x80 ? 1 : unitWeight(c);
    out[i + 1] = w;
  }
  return out;
}
