// Alignment for factoring (see factor.ts): where another email's text runs the same as the reference's.
import type { Block } from "./factor-parts";

/** Anchors are this many code units long: long enough that one in a stretch that differs is unlikely. */
export const ANCHOR = 12;

/**
 * Greedy alignment of `other` against `ref`: runs of equal text, resynchronised after each
 * difference at the nearest place where ANCHOR code units agree (searched in growing windows up to
 * `maxGap`; beyond it the rest counts as different). Blocks are in order in both texts.
 */
export function align(ref: string, other: string, maxGap: number): Block[] {
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
