// Factoring the parts of similar emails into shared text and per-email holes, for providers whose
// multi-recipient API takes one content template plus substitutions per recipient. See
// docs/decisions.md, "Multi-recipient provider calls".
import { ANCHOR, align } from "./factor-align";
import { build, isHigh, isLow, join, prefixWeights, weightOfText, type Block, type Factored, type Interval } from "./factor-parts";

export { join, type Factored } from "./factor-parts";

export interface FactorGroup {
  /** Indexes into the texts given to factor(), ascending. */
  members: number[];
  /** One per part. */
  parts: Factored[];
}

export interface FactorOptions {
  /** The most each member may put in holes: Σ over parts of holeCost per hole + the UTF-8 size of its values. */
  budget: number;
  /** What one hole costs a member besides its value (its key, quoting, one borrowed character). */
  holeCost: number;
  /** How many reference emails to try before the rest are left out. */
  rounds?: number;
}

/**
 * Splits emails into groups whose parts can be written as one shared text with holes, each member
 * within `budget`. texts[i][p] is part p of email i; every email has the same parts, none empty.
 * Emails that fit no group are in `rest`. For every member and part, joining the pieces with the
 * member's values gives back its text exactly (checked).
 */
export function factor(texts: string[][], opts: FactorOptions): { groups: FactorGroup[]; rest: number[] } {
  const groups: FactorGroup[] = [];
  const rest: number[] = [];
  let candidates = texts.map((_, i) => i);
  for (let round = 0; round < (opts.rounds ?? 3) && candidates.length > 1; round++) {
    const { members, parts, rejected } = factorRound(texts, candidates, opts);
    if (members.length > 1) groups.push({ members, parts });
    else rest.push(...members);
    candidates = rejected;
  }
  return { groups, rest: [...rest, ...candidates].sort((a, b) => a - b) };
}

function factorRound(
  texts: string[][],
  candidates: number[],
  opts: FactorOptions,
): { members: number[]; parts: Factored[]; rejected: number[] } {
  const refIdx = candidates[0]!;
  const ref = texts[refIdx]!;
  const weights = ref.map(prefixWeights);
  const weightOf = (p: number, [s, e]: Interval) => weights[p]![e]! - weights[p]![s]!;
  const totalOf = (fixed: Interval[][]) => fixed.reduce((sum, list, p) => sum + list.reduce((w, iv) => w + weightOf(p, iv), 0), 0);
  const holesOf = (fixed: Interval[][]) => fixed.reduce((sum, list) => sum + list.length + 1, 0);
  /** Drops what cannot be shared text: half a surrogate pair at either end, and runs cheaper as part of a hole. */
  const refine = (p: number, list: Interval[]): Interval[] =>
    list
      .map(([s, e]): Interval => [isLow(ref[p]!.charCodeAt(s)) ? s + 1 : s, isHigh(ref[p]!.charCodeAt(e - 1)) ? e - 1 : e])
      .filter((iv) => iv[0] < iv[1] && weightOf(p, iv) > opts.holeCost);

  let fixed: Interval[][] = ref.map((text, p) => refine(p, [[0, text.length]]));
  const blocks = new Map<number, Block[][]>([[refIdx, ref.map((text) => [{ ref: 0, at: 0, len: text.length }])]]);
  const members = [refIdx];
  const rejected: number[] = [];
  let widest = texts[refIdx]!.reduce((w, t) => w + weightOfText(t), 0);
  for (const c of candidates.slice(1)) {
    const own = texts[c]!.reduce((w, t) => w + weightOfText(t), 0);
    // The shared text can only shrink: a member already over budget with today's stays over it.
    if (own - totalOf(fixed) + holesOf(fixed) * opts.holeCost > opts.budget) {
      rejected.push(c);
      continue;
    }
    const cBlocks = texts[c]!.map((text, p) => align(ref[p]!, text, opts.budget + ANCHOR));
    const next = fixed.map((list, p) => refine(p, intersect(list, cBlocks[p]!)));
    if (Math.max(widest, own) - totalOf(next) + holesOf(next) * opts.holeCost > opts.budget) {
      rejected.push(c);
      continue;
    }
    fixed = next;
    widest = Math.max(widest, own);
    blocks.set(c, cBlocks);
    members.push(c);
  }
  const parts = ref.map((text, p) =>
    build(
      text,
      fixed[p]!,
      members.map((m) => ({ text: texts[m]![p]!, blocks: blocks.get(m)![p]! })),
    ),
  );
  // Every member must come back exactly; one that does not (a bug) is left out of the group.
  const exact = members.filter((_, k) => parts.every((part, p) => join(part, k) === texts[members[k]!]![p]));
  if (exact.length === members.length) return { members, parts, rejected };
  const kept = new Set(exact);
  const again = exact.length > 1 ? factorRound(texts, exact, opts) : { members: exact, parts: [], rejected: [] as number[] };
  return {
    members: again.members,
    parts: again.parts,
    rejected: [...again.rejected, ...members.filter((m) => !kept.has(m)), ...rejected].sort((a, b) => a - b),
  };
}

/** The parts of `list` that also lie in a block; each result lies within one interval and one block. */
function intersect(list: Interval[], blocks: Block[]): Interval[] {
  const out: Interval[] = [];
  let b = 0;
  for (const [s, e] of list) {
    while (b < blocks.length && blocks[b]!.ref + blocks[b]!.len <= s) b++;
    for (let k = b; k < blocks.length && blocks[k]!.ref < e; k++) {
      const lo = Math.max(s, blocks[k]!.ref);
      const hi = Math.min(e, blocks[k]!.ref + blocks[k]!.len);
      if (lo < hi) out.push([lo, hi]);
    }
  }
  return out;
}
