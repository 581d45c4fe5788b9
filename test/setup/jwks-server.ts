// A stand-in identity provider: it publishes RS256 and ES256 public keys as a JWKS and hands the
// private halves to the tests (through provide/inject) so they can mint tokens it would have issued.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { webcrypto } from "node:crypto";
import type { JwksInfo } from "./jwks-types";

async function keyPair(alg: "RS256" | "ES256", kid: string) {
  const params =
    alg === "RS256"
      ? { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" }
      : { name: "ECDSA", namedCurve: "P-256" };
  const pair = (await webcrypto.subtle.generateKey(params, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
  const pub = { ...(await webcrypto.subtle.exportKey("jwk", pair.publicKey)), kid, alg, use: "sig" };
  const priv = { ...(await webcrypto.subtle.exportKey("jwk", pair.privateKey)), kid, alg };
  return { pub, priv };
}

export async function startJwksServer() {
  const rsa = await keyPair("RS256", "rsa-1");
  const ec = await keyPair("ES256", "ec-1");
  const stranger = await keyPair("RS256", "rsa-1");
  const body = JSON.stringify({ keys: [rsa.pub, ec.pub] });
  const server = http.createServer((req, res) => {
    if (req.url === "/.well-known/jwks.json") {
      res.writeHead(200, { "content-type": "application/json" }).end(body);
    } else if (req.url === "/redirect") {
      // A JWKS URL that redirects to a valid set: herald must not follow it (test/auth-hardening.test.ts).
      res.writeHead(302, { location: "/.well-known/jwks.json" }).end();
    } else {
      res.writeHead(500).end("down");
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const info: JwksInfo = {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    brokenUrl: `http://127.0.0.1:${port}/broken`,
    rsaPrivate: rsa.priv as JsonWebKey,
    rsaPublic: rsa.pub as JsonWebKey,
    ecPrivate: ec.priv as JsonWebKey,
    strangerRsaPrivate: stranger.priv as JsonWebKey,
  };
  return { info, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
