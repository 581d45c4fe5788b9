/**
 * Just enough DER to turn an ECDSA signature into the raw r||s form WebCrypto wants (SendGrid).
 * Not a general ASN.1 parser: anything unexpected throws DerError, which callers turn into a
 * rejection.
 */
export class DerError extends Error {}

interface Tlv {
  tag: number;
  /** Offset of the first content byte. */
  body: number;
  /** Offset just past the content. */
  end: number;
}

function readTlv(der: Uint8Array, pos: number, limit: number): Tlv {
  if (pos + 2 > limit) throw new DerError("truncated");
  const tag = der[pos]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError("high tag numbers are not used here");
  let len = der[pos + 1]!;
  let body = pos + 2;
  if (len & 0x80) {
    // Long form; 0x80 alone is BER's indefinite length, which DER forbids.
    const n = len & 0x7f;
    if (n === 0 || n > 4 || body + n > limit) throw new DerError("bad length");
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + der[body + i]!;
    body += n;
  }
  const end = body + len;
  if (end > limit) throw new DerError("length runs past its parent");
  return { tag, body, end };
}

function children(der: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let pos = parent.body; pos < parent.end; pos = out[out.length - 1]!.end) out.push(readTlv(der, pos, parent.end));
  return out;
}

const SEQUENCE = 0x30;
const INTEGER = 0x02;

/**
 * ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } → r||s, each left-padded to `size` bytes
 * (WebCrypto's format). DER integers are minimal and signed, so they may be shorter than `size`
 * or carry one leading 0x00.
 */
export function ecdsaDerToRaw(der: Uint8Array, size: number): Uint8Array<ArrayBuffer> {
  const seq = readTlv(der, 0, der.length);
  if (seq.tag !== SEQUENCE || seq.end !== der.length) throw new DerError("not an ECDSA signature");
  const parts = children(der, seq);
  if (parts.length !== 2) throw new DerError("not an ECDSA signature");
  const out = new Uint8Array(size * 2);
  parts.forEach((part, i) => {
    if (part.tag !== INTEGER || part.end === part.body) throw new DerError("not an integer");
    let from = part.body;
    while (from < part.end - 1 && der[from] === 0) from++;
    const len = part.end - from;
    if (len > size) throw new DerError("integer too large for the curve");
    out.set(der.subarray(from, part.end), i * size + size - len);
  });
  return out;
}
