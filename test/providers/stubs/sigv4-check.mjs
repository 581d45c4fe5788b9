// Recomputes an AWS Signature Version 4 the way AWS does, from the request as it arrived, so the
// SES stand-in accepts only requests a real endpoint would accept. Deliberately separate from
// herald's signer (aws4fetch, in src/providers/ses.ts): it runs in Node with node:crypto.
import { createHash, createHmac, timingSafeEqual } from "node:crypto";

const AUTH =
  /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;

const sha256 = (data) => createHash("sha256").update(data).digest("hex");
const hmac = (key, data) => createHmac("sha256", key).update(data, "utf8").digest();
const encode = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/**
 * @param {import("node:http").IncomingMessage} req
 * @param {Buffer} body
 * @param {{ accessKeyId: string, secretAccessKey: string, sessionToken?: string, region: string, service: string }} expected
 * @returns {string | undefined} why the signature is not valid, or undefined
 */
export function checkSigV4(req, body, expected) {
  const m = AUTH.exec(String(req.headers.authorization ?? ""));
  if (!m) return "missing or malformed Authorization header";
  const [, keyId, day, region, service, signedHeaders, signature] = m;
  if (keyId !== expected.accessKeyId) return "unknown access key id";
  if (region !== expected.region) return `credential scope region ${region} is not ${expected.region}`;
  if (service !== expected.service) return `credential scope service ${service} is not ${expected.service}`;
  const amzDate = String(req.headers["x-amz-date"] ?? "");
  if (!/^\d{8}T\d{6}Z$/.test(amzDate)) return "missing or malformed x-amz-date";
  if (amzDate.slice(0, 8) !== day) return "x-amz-date does not match the credential scope date";
  const when = Date.parse(
    `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
  );
  if (Math.abs(Date.now() - when) > 5 * 60_000) return "x-amz-date is more than 5 minutes away from now";
  const names = signedHeaders.split(";");
  for (const required of ["host", "x-amz-date", "x-amz-content-sha256"]) {
    if (!names.includes(required)) return `${required} is not signed`;
  }
  const payloadHash = sha256(body);
  if (req.headers["x-amz-content-sha256"] !== payloadHash) return "x-amz-content-sha256 is not the body's SHA-256";
  // Long-term keys need no session token; temporary ones must send theirs, signed.
  if (req.headers["x-amz-security-token"] !== undefined) {
    if (req.headers["x-amz-security-token"] !== expected.sessionToken) return "wrong x-amz-security-token";
    if (!names.includes("x-amz-security-token")) return "x-amz-security-token is not signed";
  }
  if ([...names].sort().join(";") !== signedHeaders) return "SignedHeaders are not sorted";

  const url = new URL(req.url ?? "/", "http://stub");
  const canonicalUri = url.pathname.split("/").map(encode).join("/");
  const canonicalQuery = [...url.searchParams]
    .map(([k, v]) => `${encode(k)}=${encode(v)}`)
    .sort()
    .join("&");
  const canonicalHeaders = names.map((n) => {
    const v = req.headers[n];
    if (v === undefined) return undefined;
    return `${n}:${(Array.isArray(v) ? v.join(",") : v).trim().replace(/\s+/g, " ")}\n`;
  });
  if (canonicalHeaders.includes(undefined)) return "a signed header is missing from the request";
  const canonicalRequest = [req.method, canonicalUri, canonicalQuery, canonicalHeaders.join(""), signedHeaders, payloadHash].join("\n");
  const scope = `${day}/${region}/${service}/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256(canonicalRequest)].join("\n");
  let key = hmac(`AWS4${expected.secretAccessKey}`, day);
  for (const part of [region, service, "aws4_request"]) key = hmac(key, part);
  const wanted = Buffer.from(hmac(key, stringToSign).toString("hex"));
  if (!timingSafeEqual(wanted, Buffer.from(signature))) return "signature mismatch";
  return undefined;
}
