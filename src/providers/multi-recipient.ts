// For providers whose multi-recipient API takes one content template plus substitutions per
// recipient (SendGrid's personalizations): factoring the parts of a group of emails into the text
// they all share and the holes each email fills in, and running provider calls that each cover one
// or more emails. See docs/decisions.md, "Multi-recipient provider calls".
import { clip, failBatch } from "./errors";
import { ProviderError, type OutboundEmail, type SendResult } from "./types";

// ---------------------------------------------------------------------------------------------
// Calls covering several emails each
// ---------------------------------------------------------------------------------------------

export interface Call {
  /** The emails this call covers, in batch order (the same objects as in the batch). */
  emails: OutboundEmail[];
  /**
   * Makes the call, which may be several requests one after another. Each email is settled with
   * `settle(k, result)`, k its position in `emails`. A ProviderError leaves the rest unsettled; for
   * an ambiguous one, `ambiguousIds` names those that may have been accepted (undefined: all).
   */
  run(settle: (k: number, result: SendResult) => void): Promise<void>;
}

/**
 * sendEach for calls that cover several emails: at most `concurrency` calls at a time, none
 * started after the first failure, and one result per email in batch order. A call that fails
 * shares its fate with all its unsettled emails: when any call ended ambiguously the failure is
 * ambiguous and names exactly the emails of those calls; emails of calls that failed safely or
 * never started were not sent.
 */
export async function runCalls(batch: OutboundEmail[], calls: Call[], concurrency: number): Promise<SendResult[]> {
  const slotOf = new Map(batch.map((e, i) => [e, i]));
  const settled: (SendResult | undefined)[] = batch.map(() => undefined);
  const failures: ProviderError[] = [];
  const ambiguous = new Set<number>();
  let next = 0;
  const worker = async () => {
    while (failures.length === 0 && next < calls.length) {
      const call = calls[next++]!;
      const slots = call.emails.map((e) => slotOf.get(e)!);
      try {
        await call.run((k, result) => {
          if (result.id === batch[slots[k]!]!.id) settled[slots[k]!] = result;
        });
        const open = slots.filter((s) => !settled[s]).map((s) => batch[s]!.id);
        if (open.length > 0)
          throw new ProviderError("ambiguous", "the provider call ended without an answer for every email", undefined, open);
      } catch (err) {
        const open = slots.filter((s) => !settled[s]);
        const failure =
          err instanceof ProviderError
            ? err
            : new ProviderError(
                "ambiguous",
                `unexpected error while sending: ${clip(err instanceof Error ? `${err.name}: ${err.message}` : String(err), 200)}`,
              );
        failures.push(failure);
        if (failure.ambiguous) {
          const named = failure.ambiguousIds ? new Set(failure.ambiguousIds) : undefined;
          for (const s of open) if (!named || named.has(batch[s]!.id)) ambiguous.add(s);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, concurrency), calls.length) }, worker));
  if (failures.length === 0) return settled as SendResult[];
  const safe = failures.filter((f) => !f.ambiguous);
  if (ambiguous.size === 0) failBatch(safe[0] ?? failures[0]!, settled);
  const ids = [...ambiguous].sort((a, b) => a - b).map((s) => batch[s]!.id);
  const first = failures.find((f) => f.ambiguous)!;
  const message =
    ids.length > 1 || safe.length > 0
      ? `${first.message} (${ids.length} emails ambiguous${safe.length > 0 ? `; ${safe.length} calls failed safely: ${safe[0]!.message}` : ""})`
      : first.message;
  const retryAfter = Math.max(...failures.map((f) => f.retryAfterSeconds ?? -1));
  failBatch(new ProviderError("ambiguous", message, retryAfter >= 0 ? retryAfter : undefined, ids), settled);
}

/** Names the emails of a request in an ambiguous failure that does not name them yet. */
export function naming(err: unknown, emails: OutboundEmail[]): unknown {
  if (!(err instanceof ProviderError) || !err.ambiguous || err.ambiguousIds) return err;
  return new ProviderError(
    err.kind,
    err.message,
    err.retryAfterSeconds,
    emails.map((e) => e.id),
    err.replay,
  );
}

// ---------------------------------------------------------------------------------------------
// Factoring the parts of similar emails into shared text and per-email holes
// ---------------------------------------------------------------------------------------------

/** One part (e.g. the html) of a group's emails: the shared text with numbered holes, and each member's hole values. */
export interface Factored {
  /** In order: shared text (strings) and holes (their numbers, 0, 1, 2, … each once). */
  pieces: (string | number)[];
  /** values[m][h]: member m's text for hole h; never empty. */
  values: string[][];
}

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

/** A run of text the same in the reference (from `ref`) and another email (from `at`). */
interface Block {
  ref: number;
  at: number;
  len: number;
}

type Interval = [start: number, end: number];

/** Anchors are this many code units long: long enough that one in a stretch that differs is unlikely. */
const ANCHOR = 12;

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

/** Member k's text of a factored part. */
export function join(part: Factored, k: number): string {
  return part.pieces.map((piece) => (typeof piece === "number" ? part.values[k]![piece]! : piece)).join("");
}

/**
 * Greedy alignment of `other` against `ref`: runs of equal text, resynchronised after each
 * difference at the nearest place where ANCHOR code units agree (searched in growing windows up to
 * `maxGap`; beyond it the rest counts as different). Blocks are in order in both texts.
 */
function align(ref: string, other: string, maxGap: number): Block[] {
  const out: Block[] = [];
  let i = 0;
  let j = 0;
  while (i < ref.length && j < other.length) {
    const k = commonRun(ref, i, other, j);
    if (k > 0) {
      out.push({ ref: i, at: j, len: k });
      i += k;
      j += k;
      continue;
    }
    const next = resync(ref, i, other, j, maxGap);
    if (!next) break;
    [i, j] = next;
  }
  return out;
}

/**
 * How many code units from a[i] and b[j] on are equal: whole chunks compared natively (substring
 * equality is a memory compare), in shrinking steps, then the last few one by one.
 */
function commonRun(a: string, i: number, b: string, j: number): number {
  const max = Math.min(a.length - i, b.length - j);
  let k = 0;
  for (let step = 4096; step > 2; step >>= 2) {
    while (k + step <= max && a.substring(i + k, i + k + step) === b.substring(j + k, j + k + step)) k += step;
  }
  while (k < max && a.charCodeAt(i + k) === b.charCodeAt(j + k)) k++;
  return k;
}

const BASE = 0x9e3779b1;
const BASE_TOP = (() => {
  let p = 1;
  for (let t = 1; t < ANCHOR; t++) p = Math.imul(p, BASE);
  return p;
})();

/** Rolling hashes of the ANCHOR-long runs starting at from..to (inclusive), into `out`. */
function hashes(s: string, from: number, to: number, out: Int32Array): Int32Array {
  let h = 0;
  for (let t = 0; t < ANCHOR; t++) h = (Math.imul(h, BASE) + s.charCodeAt(from + t)) | 0;
  out[0] = h;
  for (let p = from + 1; p <= to; p++) {
    h = (Math.imul(h - Math.imul(s.charCodeAt(p - 1), BASE_TOP), BASE) + s.charCodeAt(p + ANCHOR - 1)) | 0;
    out[p - from] = h;
  }
  return out;
}

/** Scratch space for resync, reused: a hash table whose slots are free unless stamped with the current use. */
const table = {
  size: 0,
  keys: new Int32Array(0),
  firsts: new Int32Array(0),
  stamps: new Int32Array(0),
  stamp: 0,
  a: new Int32Array(0),
  b: new Int32Array(0),
};

function resync(ref: string, i: number, other: string, j: number, maxGap: number): [number, number] | undefined {
  for (let window = 256; ; window *= 8) {
    const w = Math.min(window, maxGap);
    const refEnd = Math.min(ref.length - ANCHOR, i + w);
    const otherEnd = Math.min(other.length - ANCHOR, j + w);
    if (refEnd < i || otherEnd < j) break;
    const count = Math.max(refEnd - i, otherEnd - j) + 1;
    if (table.size < count * 2) {
      let size = 1024;
      while (size < count * 2) size *= 2;
      Object.assign(table, {
        size,
        keys: new Int32Array(size),
        firsts: new Int32Array(size),
        stamps: new Int32Array(size),
        stamp: 0,
        a: new Int32Array(size),
        b: new Int32Array(size),
      });
    }
    const { size, keys, firsts, stamps } = table;
    table.stamp = (table.stamp + 1) | 0;
    if (table.stamp === 0) {
      stamps.fill(0);
      table.stamp = 1;
    }
    const stamp = table.stamp;
    // The first place of each run's hash in `other`.
    const otherHashes = hashes(other, j, otherEnd, table.b);
    for (let b = 0; b <= otherEnd - j; b++) {
      const h = otherHashes[b]!;
      let slot = h & (size - 1);
      while (stamps[slot] === stamp && keys[slot] !== h) slot = (slot + 1) & (size - 1);
      if (stamps[slot] !== stamp) {
        stamps[slot] = stamp;
        keys[slot] = h;
        firsts[slot] = j + b;
      }
    }
    const refHashes = hashes(ref, i, refEnd, table.a);
    let best: [number, number] | undefined;
    let cost = Infinity;
    for (let a = i; a <= refEnd && a - i < cost; a++) {
      const h = refHashes[a - i]!;
      let slot = h & (size - 1);
      while (stamps[slot] === stamp && keys[slot] !== h) slot = (slot + 1) & (size - 1);
      if (stamps[slot] !== stamp) continue;
      const b = firsts[slot]!;
      if (a - i + (b - j) < cost && ref.substring(a, a + ANCHOR) === other.substring(b, b + ANCHOR)) {
        cost = a - i + (b - j);
        best = [a, b];
      }
    }
    if (best) return best;
    if (w >= maxGap || (refEnd >= ref.length - ANCHOR && otherEnd >= other.length - ANCHOR)) break;
  }
  // No anchor left: the texts may still end alike (a tail shorter than an anchor).
  let s = 0;
  while (s < ref.length - i && s < other.length - j && ref.charCodeAt(ref.length - 1 - s) === other.charCodeAt(other.length - 1 - s)) s++;
  if (s === 0 || ref.length - s - i > maxGap || other.length - s - j > maxGap) return undefined;
  return [ref.length - s, other.length - s];
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

/** Cuts each member's text at the shared intervals, then removes empty values (see below). */
function build(ref: string, fixed: Interval[], members: { text: string; blocks: Block[] }[]): Factored {
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
      seg.values.forEach((v, m) => values[m]!.push(v));
    }
  }
  return { pieces, values };
}

const isHigh = (c: number) => c >= 0xd800 && c <= 0xdbff;
const isLow = (c: number) => c >= 0xdc00 && c <= 0xdfff;

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
function weightOfText(text: string): number {
  if (scratch.length < text.length * 3) scratch = new Uint8Array(text.length * 3);
  return encoder.encodeInto(text, scratch).written;
}

function prefixWeights(text: string): Float64Array {
  const out = new Float64Array(text.length + 1);
  let w = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    w += c < 0x80 ? 1 : unitWeight(c);
    out[i + 1] = w;
  }
  return out;
}
