/** What the stand-in identity provider hands the tests. */
export interface JwksInfo {
  url: string;
  /** Answers 500, to test an identity provider that is down. */
  brokenUrl: string;
  rsaPrivate: JsonWebKey;
  rsaPublic: JsonWebKey;
  ecPrivate: JsonWebKey;
  /** An RSA key that is not in the set. */
  strangerRsaPrivate: JsonWebKey;
}
