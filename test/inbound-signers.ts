// Test-only signers that produce webhook requests the way each provider does, using WebCrypto
// inside workerd. The DER here shares no code with what reads it (node:crypto's X509Certificate for
// SNS certificates, src/webhooks/inbound/der.ts for SendGrid's ECDSA signatures).
import type { InboundRequest } from "../src/webhooks/inbound";

const enc = new TextEncoder();

export function b64(bytes: Uint8Array | ArrayBuffer): string {
  let s = "";
  for (const b of bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes)) s += String.fromCharCode(b);
  return btoa(s);
}

function hexOf(buf: ArrayBuffer): string {
  return Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, "0")).join("");
}

export function request(body: string, headers: Record<string, string> = {}): InboundRequest {
  return { method: "POST", url: "https://herald.test/webhooks/inbound", headers: new Headers(headers), body };
}

// --- minimal DER encoder --------------------------------------------------------------------

function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function tlv(tag: number, ...content: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const body = concat(...content);
  const n = body.length;
  const len = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : n < 0x10000 ? [0x82, n >> 8, n & 0xff] : [0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
  return concat(new Uint8Array([tag, ...len]), body);
}

const seq = (...p: Uint8Array[]) => tlv(0x30, ...p);

/** A non-negative INTEGER from big-endian magnitude bytes: minimal, with a 0x00 when the top bit is set. */
function int(magnitude: Uint8Array): Uint8Array<ArrayBuffer> {
  let from = 0;
  while (from < magnitude.length - 1 && magnitude[from] === 0) from++;
  const m = magnitude.subarray(from);
  return tlv(0x02, m[0]! & 0x80 ? concat(new Uint8Array([0]), m) : m);
}

function oid(dotted: string): Uint8Array<ArrayBuffer> {
  const [a, b, ...rest] = dotted.split(".").map(Number);
  const bytes = [a! * 40 + b!];
  for (const n of rest) {
    const chunk = [n & 0x7f];
    for (let v = n >> 7; v > 0; v >>= 7) chunk.unshift((v & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return tlv(0x06, new Uint8Array(bytes));
}

function utcTime(d: Date): Uint8Array<ArrayBuffer> {
  const p = (n: number) => String(n).padStart(2, "0");
  const text = `${p(d.getUTCFullYear() % 100)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
  return tlv(0x17, enc.encode(text));
}

const name = (cn: string) => seq(tlv(0x31, seq(oid("2.5.4.3"), tlv(0x0c, enc.encode(cn)))));
const sha256WithRSA = () => seq(oid("1.2.840.113549.1.1.11"), tlv(0x05));

function pem(der: Uint8Array): string {
  const text = b64(der).replace(/.{1,64}/g, "$&\n");
  return `-----BEGIN CERTIFICATE-----\n${text}-----END CERTIFICATE-----\n`;
}

// --- SES / SNS --------------------------------------------------------------------------------

export interface SnsSigner {
  certUrl: string;
  certificatePem: string;
  /** Adds SignatureVersion, SigningCertURL and Signature to the fields and returns the JSON body. */
  sign(fields: Record<string, string>, version: "1" | "2"): Promise<string>;
}

const RSA = { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" };
const EC = { name: "ECDSA", namedCurve: "P-256" };

export interface SnsCertificateOptions {
  /** Default: 2020 to 2049, around both the tests' fixed clock and the real one. */
  notBefore?: Date;
  notAfter?: Date;
  /** An ECDSA P-256 key instead of SNS's RSA, to check that only RSA certificates are taken. */
  ec?: boolean;
}

/** A key and a self-signed X.509 v3 certificate for it, as the SNS signing certificate. */
export async function snsSigner(certUrl: string, options: SnsCertificateOptions = {}): Promise<SnsSigner> {
  const pair = (await crypto.subtle.generateKey(options.ec ? EC : RSA, true, ["sign", "verify"])) as CryptoKeyPair;
  const spki = new Uint8Array((await crypto.subtle.exportKey("spki", pair.publicKey)) as ArrayBuffer);
  const algorithm = options.ec ? seq(oid("1.2.840.10045.4.3.2")) : sha256WithRSA(); // ecdsa-with-SHA256 has no NULL parameters
  const tbs = seq(
    tlv(0xa0, int(new Uint8Array([2]))), // v3
    int(crypto.getRandomValues(new Uint8Array(8))),
    algorithm,
    name("sns.amazonaws.com"),
    seq(utcTime(options.notBefore ?? new Date("2020-01-01T00:00:00Z")), utcTime(options.notAfter ?? new Date("2049-12-31T23:59:59Z"))),
    name("sns.amazonaws.com"),
    spki,
  );
  const tbsSig = options.ec
    ? rawToDer(new Uint8Array(await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, pair.privateKey, tbs)))
    : new Uint8Array(await crypto.subtle.sign("RSASSA-PKCS1-v1_5", pair.privateKey, tbs));
  const certificatePem = pem(seq(tbs, algorithm, tlv(0x03, new Uint8Array([0]), tbsSig)));
  if (options.ec) {
    return {
      certUrl,
      certificatePem,
      async sign(fields, version) {
        const signature = b64(
          rawToDer(
            new Uint8Array(
              await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, pair.privateKey, enc.encode(snsStringToSign(fields))),
            ),
          ),
        );
        return JSON.stringify({ ...fields, SignatureVersion: version, Signature: signature, SigningCertURL: certUrl });
      },
    };
  }

  // generateKey binds one hash to the key; SignatureVersion 1 needs the same key under SHA-1.
  const pkcs8 = (await crypto.subtle.exportKey("pkcs8", pair.privateKey)) as ArrayBuffer;
  const sha1Key = await crypto.subtle.importKey("pkcs8", pkcs8, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-1" }, false, ["sign"]);

  return {
    certUrl,
    certificatePem,
    async sign(fields, version) {
      const key = version === "1" ? sha1Key : pair.privateKey;
      const signature = b64(await crypto.subtle.sign("RSASSA-PKCS1-v1_5", key, enc.encode(snsStringToSign(fields))));
      return JSON.stringify({ ...fields, SignatureVersion: version, Signature: signature, SigningCertURL: certUrl });
    },
  };
}

function snsStringToSign(fields: Record<string, string>): string {
  const keys =
    fields.Type === "Notification"
      ? ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
      : ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"];
  return keys
    .filter((k) => fields[k] !== undefined)
    .map((k) => `${k}\n${fields[k]}\n`)
    .join("");
}

// --- SendGrid ---------------------------------------------------------------------------------

/** WebCrypto gives r||s; SendGrid sends the DER ECDSA-Sig-Value. */
export function rawToDer(raw: Uint8Array): Uint8Array<ArrayBuffer> {
  const half = raw.length / 2;
  return seq(int(raw.subarray(0, half)), int(raw.subarray(half)));
}

export interface SendgridSigner {
  /** base64 DER SPKI, as the SendGrid dashboard shows it. */
  publicKey: string;
  headers(body: string, timestamp: number): Promise<Record<string, string>>;
}

export async function sendgridSigner(): Promise<SendgridSigner> {
  const pair = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
  const publicKey = b64((await crypto.subtle.exportKey("spki", pair.publicKey)) as ArrayBuffer);
  return {
    publicKey,
    async headers(body, timestamp) {
      const raw = new Uint8Array(
        await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, pair.privateKey, enc.encode(`${timestamp}${body}`)),
      );
      return {
        "content-type": "application/json",
        "X-Twilio-Email-Event-Webhook-Signature": b64(rawToDer(raw)),
        "X-Twilio-Email-Event-Webhook-Timestamp": String(timestamp),
      };
    },
  };
}

// --- HMAC providers ---------------------------------------------------------------------------

async function hmac(key: Uint8Array, data: string): Promise<ArrayBuffer> {
  const k = await crypto.subtle.importKey("raw", key as Uint8Array<ArrayBuffer>, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return crypto.subtle.sign("HMAC", k, enc.encode(data));
}

/** Mailgun's webhook signature block: hex HMAC-SHA256(signingKey, timestamp + token). */
export async function mailgunSignature(signingKey: string, timestamp: number, token = crypto.randomUUID().replace(/-/g, "")) {
  return { timestamp: String(timestamp), token, signature: hexOf(await hmac(enc.encode(signingKey), `${timestamp}${token}`)) };
}

export function svixSecret(): string {
  return `whsec_${b64(crypto.getRandomValues(new Uint8Array(24)))}`;
}

/** Svix headers (as Resend sends them): v1 = base64 HMAC-SHA256 of `${id}.${timestamp}.${body}`. */
export async function svixHeaders(secret: string, id: string, timestamp: number, body: string): Promise<Record<string, string>> {
  const key = Uint8Array.from(atob(secret.slice("whsec_".length)), (c) => c.charCodeAt(0));
  const sig = b64(await hmac(key, `${id}.${timestamp}.${body}`));
  return { "svix-id": id, "svix-timestamp": String(timestamp), "svix-signature": `v1,${sig}` };
}

export function basicAuth(user: string, pass: string): Record<string, string> {
  return { authorization: `Basic ${b64(enc.encode(`${user}:${pass}`))}` };
}
